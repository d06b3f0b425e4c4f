// Command diagram redraws the contact-change state machine in the README: it replaces the
// lines between statemachine.DiagramBegin and statemachine.DiagramEnd with a Mermaid
// diagram of contact-change.asl.json, so the picture is drawn from the deployed file.
//
//	go run ./infra/statemachine/diagram [-readme README.md]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/servicecontacts/servicecontacts/infra/statemachine"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit status: 0 done, 1 failed, 2 misused.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("diagram", flag.ContinueOnError)
	flags.SetOutput(stderr)
	readme := flags.String("readme", "README.md", "the Markdown file whose diagram block to rewrite")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "diagram: unexpected arguments %q\n", flags.Args())
		return 2
	}
	changed, err := rewrite(*readme, statemachine.Definition)
	if err != nil {
		fmt.Fprintln(stderr, "diagram:", err)
		return 1
	}
	if changed {
		fmt.Fprintf(stdout, "%s: diagram updated\n", *readme)
	} else {
		fmt.Fprintf(stdout, "%s: diagram already up to date\n", *readme)
	}
	return 0
}

// rewrite replaces the diagram block of the file at path with one drawn from definition,
// writing only when it changes.
func rewrite(path string, definition []byte) (changed bool, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("read readme: %w", err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read readme: %w", err)
	}
	head, block, tail, err := statemachine.SplitREADME(string(old))
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	fresh, err := statemachine.DiagramBlock(definition)
	if err != nil {
		return false, fmt.Errorf("draw contact-change.asl.json: %w", err)
	}
	if block == fresh {
		return false, nil
	}
	if err := os.WriteFile(path, []byte(head+fresh+tail), info.Mode().Perm()); err != nil {
		return false, fmt.Errorf("write readme: %w", err)
	}
	return true, nil
}
