package stencil

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// escaper is how an action's value is written.
type escaper uint8

const (
	escNone     escaper = iota // text sets: as is
	escText                    // element content
	escRCDATA                  // title and textarea content
	escAttr                    // a quoted attribute value
	escURLStart                // the start of a quoted URL attribute value
	escURLPath                 // the rest of a URL, before its query
	escURLQuery                // a URL's query or fragment
	escStyle                   // a style element's content
)

// escapeDefinition works out the context of each action of d, which starts and must end in
// element content, and sets the action's escaper.
func escapeDefinition(name string, d *definition) error {
	end, err := escapeList(d, d.body, context{})
	if err != nil {
		return err
	}
	if end != (context{}) {
		return fmt.Errorf("%s:%d: template %q ends in %s, not in element content", d.file, d.line, name, end)
	}
	return nil
}

func escapeList(d *definition, nodes []node, c context) (context, error) {
	for _, n := range nodes {
		var err error
		switch n := n.(type) {
		case *textNode:
			var text string
			var at int
			c, text, at, err = advance(c, n.text)
			if err != nil {
				line := n.line + strings.Count(n.text[:at], "\n")
				return c, fmt.Errorf("%s:%d: %w", d.file, line, err)
			}
			n.text = text
		case *actionNode:
			n.esc, err = escaperFor(c)
			if err != nil {
				return c, fmt.Errorf("%s:%d: {{%s}}: %w", d.file, n.line, n.cmd.token, err)
			}
		case *branchNode:
			c, err = escapeBranch(d, n, c)
		case *callNode:
			if c != (context{}) {
				err = fmt.Errorf("%s:%d: {{template %q}} in %s: templates may only be called in element content", d.file, n.line, n.name, c)
			}
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// escapeBranch requires every way through a branch to end in one context: the one it starts
// in, for the body of a {{range}}, which may run again after itself.
func escapeBranch(d *definition, n *branchNode, c context) (context, error) {
	end, err := escapeList(d, n.list, c)
	if err != nil {
		return c, err
	}
	if n.keyword == "range" && end != c {
		return c, fmt.Errorf("%s:%d: the body of {{range}} starts in %s and ends in %s", d.file, n.line, c, end)
	}
	elseEnd, err := escapeList(d, n.elseList, c)
	if err != nil {
		return c, err
	}
	if end != elseEnd {
		return c, fmt.Errorf("%s:%d: the branches of {{%s}} end in different contexts: %s and %s", d.file, n.line, n.keyword, end, elseEnd)
	}
	return end, nil
}

func escaperFor(c context) (escaper, error) {
	switch c.state {
	case stateText:
		return escText, nil
	case stateRCDATA:
		return escRCDATA, nil
	case stateStyle:
		return escStyle, nil
	case stateAttr:
		if c.delim == delimSpace {
			break
		}
		switch c.attr {
		case attrPlain:
			return escAttr, nil
		case attrURL:
			return [...]escaper{urlStart: escURLStart, urlPath: escURLPath, urlQuery: escURLQuery}[c.url], nil
		}
	}
	return 0, fmt.Errorf("no value may be written in %s", c)
}

// write writes v as e escapes it, byte for byte as html/template does for the same context
// (but CSS, see styleValue).
func (e escaper) write(b *strings.Builder, v any) {
	s := printable(v)
	switch e {
	case escNone:
		b.WriteString(s)
	case escText:
		if _, ok := v.(HTML); ok {
			b.WriteString(s)
			return
		}
		replace(b, s, htmlTable)
	case escRCDATA:
		if _, ok := v.(HTML); ok {
			replace(b, s, htmlNormTable)
			return
		}
		replace(b, s, htmlTable)
	case escAttr:
		// Trusted markup is escaped like any text here: html/template would strip its tags.
		replace(b, s, htmlTable)
	case escURLStart:
		if !safeURL(s) {
			s = "#ZgotmplZ"
		}
		replace(b, processURL(s, true), htmlTable)
	case escURLPath:
		replace(b, processURL(s, true), htmlTable)
	case escURLQuery:
		replace(b, processURL(s, false), htmlTable)
	case escStyle:
		b.WriteString(styleValue(v, s))
	}
}

// The replacements of html/template's htmlReplacementTable and htmlNormReplacementTable
// (which leaves entities alone).
var (
	htmlTable = [...]string{
		0:    "\uFFFD",
		'"':  "&#34;",
		'&':  "&amp;",
		'\'': "&#39;",
		'+':  "&#43;",
		'<':  "&lt;",
		'>':  "&gt;",
	}
	htmlNormTable = func() [len(htmlTable)]string {
		t := htmlTable
		t['&'] = ""
		return t
	}()
)

func replace(b *strings.Builder, s string, table [len(htmlTable)]string) {
	written := 0
	for i, r := range s {
		if int(r) < len(table) && table[r] != "" {
			b.WriteString(s[written:i])
			b.WriteString(table[r])
			written = i + utf8.RuneLen(r)
		}
	}
	b.WriteString(s[written:])
}

// safeURL reports whether s has no scheme, or http, https or mailto.
func safeURL(s string) bool {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") {
		return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
	}
	return true
}

// processURL percent-encodes the bytes of s that may not appear in a URL; norm keeps the
// reserved characters and valid escapes, as in a URL given whole, rather than encoding
// them, as in a part of a query.
func processURL(s string, norm bool) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("!#$&*+,/:;=?@[]", c) >= 0:
			if norm {
				continue
			}
		case c == '-' || c == '.' || c == '_' || c == '~' || isAlnum(c):
			continue
		case c == '%':
			if norm && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				continue
			}
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// styleValue is v in a style element: a trusted style sheet as is; other values as
// html/template's cssValueFilter writes them, innocuous words (10px, #888, bold) as they
// are, anything else as ZgotmplZ. A CSS escape (\) is refused outright where html/template
// would decode it first.
func styleValue(v any, s string) string {
	if _, ok := v.(CSS); ok {
		return s
	}
	var id []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, '"', '\'', '(', ')', '/', ';', '@', '[', '\\', ']', '`', '{', '}', '<', '>':
			return "ZgotmplZ"
		case '-':
			if i > 0 && s[i-1] == '-' {
				return "ZgotmplZ"
			}
		default:
			if c == '_' || isAlnum(c) {
				id = append(id, c)
			}
		}
	}
	lower := strings.ToLower(string(id))
	if strings.Contains(lower, "expression") || strings.Contains(lower, "mozbinding") {
		return "ZgotmplZ"
	}
	return s
}
