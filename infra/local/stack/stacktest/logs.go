package stacktest

import (
	"bufio"
	"bytes"
	"sync"
)

// LongestLine is a log destination that remembers its longest line: tests hold a stack's
// logs to a bound, whatever input it was fed.
type LongestLine struct {
	mu   sync.Mutex
	max  int
	line string
}

func (l *LongestLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(p))
	sc.Buffer(nil, len(p)+1)
	for sc.Scan() {
		if n := len(sc.Bytes()); n > l.max {
			l.max, l.line = n, sc.Text()
		}
	}
	return len(p), nil
}

// Longest returns the length of the longest line written so far, and the line.
func (l *LongestLine) Longest() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max, l.line
}
