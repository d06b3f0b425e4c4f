// Package linkage checks what the Lambda functions' binaries link: its test lists each
// function's packages as the release build sees them and refuses the ones a function must
// not carry.
package linkage
