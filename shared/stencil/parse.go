package stencil

import (
	"fmt"
	"strconv"
	"strings"
)

// The tree a template parses into.
type (
	node any

	// textNode is literal text, from line on. In HTML mode, comments are already taken out
	// of it.
	textNode struct {
		line int
		text string
	}

	// actionNode writes the value of its command, escaped by esc.
	actionNode struct {
		line int
		cmd  command
		esc  escaper
	}

	// branchNode is {{if}}, {{with}} or {{range}}, with its {{else}} part.
	branchNode struct {
		line     int
		keyword  string
		cmd      command
		list     []node
		elseList []node
	}

	// callNode is {{template "name" arg}}; arg is nil when there is none.
	callNode struct {
		line int
		name string
		arg  *command
	}
)

// command is what an action evaluates: a function applied to operands, or one operand.
type command struct {
	fn    Func   // nil: the value is args[0]
	name  string // the function's name, for errors
	args  []operand
	token string // the source of the command, for errors
}

// operand is dot, a chain of fields from dot, or a constant.
type operand struct {
	fields  []string // none, and not a constant: dot itself
	value   any      // a constant, when isConst
	isConst bool
}

// item is a piece of a source: literal text, or the inside of an action.
type item struct {
	line      int
	text      string
	action    bool
	comment   bool
	trimLeft  bool // {{- : the text before loses its trailing blanks
	trimRight bool // -}} : the text after loses its leading blanks
}

const blanks = " \t\r\n"

// lex cuts src into text and actions and applies the trim markers.
func lex(file, src string) ([]item, error) {
	items := make([]item, 0, 2*strings.Count(src, "{{")+1)
	line := 1
	for len(src) > 0 {
		i := strings.Index(src, "{{")
		if i < 0 {
			items = append(items, item{line: line, text: src})
			break
		}
		if i > 0 {
			items = append(items, item{line: line, text: src[:i]})
			line += strings.Count(src[:i], "\n")
		}
		src = src[i+2:]
		it := item{line: line, action: true}
		if len(src) >= 2 && src[0] == '-' && strings.IndexByte(blanks, src[1]) >= 0 {
			it.trimLeft, src = true, src[1:]
		}
		end, err := actionEnd(src)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		inside := src[:end]
		line += strings.Count(inside, "\n")
		src = src[end+2:]
		if n := len(inside); n >= 2 && inside[n-1] == '-' && strings.IndexByte(blanks, inside[n-2]) >= 0 {
			it.trimRight, inside = true, inside[:n-1]
		}
		inside = strings.Trim(inside, blanks)
		if strings.HasPrefix(inside, "/*") {
			if !strings.HasSuffix(inside, "*/") {
				return nil, fmt.Errorf("%s:%d: comment does not end with */ right before }}", file, it.line)
			}
			it.comment = true
		}
		it.text = inside
		items = append(items, it)
	}
	for i := range items {
		if !items[i].action {
			continue
		}
		if items[i].trimLeft && i > 0 && !items[i-1].action {
			items[i-1].text = strings.TrimRight(items[i-1].text, blanks)
		}
		if next := i + 1; items[i].trimRight && next < len(items) && !items[next].action {
			trimmed := strings.TrimLeft(items[next].text, blanks)
			items[next].line += strings.Count(items[next].text[:len(items[next].text)-len(trimmed)], "\n")
			items[next].text = trimmed
		}
	}
	return items, nil
}

// actionEnd finds the }} that closes the action src starts, skipping quoted strings.
func actionEnd(src string) (int, error) {
	if strings.HasPrefix(strings.TrimLeft(src, blanks), "/*") {
		i := strings.Index(src, "*/")
		if i < 0 {
			return 0, fmt.Errorf("unclosed comment")
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return 0, fmt.Errorf("unclosed action")
		}
		return i + j, nil
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '`', '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' && c != '`' {
					j++
				}
				if c != '`' && j < len(src) && src[j] == '\n' {
					return 0, fmt.Errorf("unterminated quoted string")
				}
				j++
			}
			if j >= len(src) {
				return 0, fmt.Errorf("unterminated quoted string")
			}
			i = j
		case '}':
			if i+1 < len(src) && src[i+1] == '}' {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed action")
}

// parser turns a file's items into definitions.
type parser struct {
	file  string
	items []item
	pos   int
	funcs func(string) (Func, bool)
}

func parse(file, src string, funcs func(string) (Func, bool)) (map[string]*definition, error) {
	items, err := lex(file, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: file, items: items, funcs: funcs}
	defs := map[string]*definition{}
	for p.pos < len(p.items) {
		it := p.items[p.pos]
		p.pos++
		switch {
		case !it.action:
			if strings.Trim(it.text, blanks) != "" {
				return nil, p.errorf(it.line, "text outside {{define}}: %.20q", strings.TrimLeft(it.text, blanks))
			}
		case it.comment:
		default:
			words, err := p.words(it)
			if err != nil {
				return nil, err
			}
			if len(words) != 2 || words[0] != "define" {
				return nil, p.errorf(it.line, "{{%s}} outside {{define}}", it.text)
			}
			name, err := p.name(it, words[1])
			if err != nil {
				return nil, err
			}
			if prev, ok := defs[name]; ok {
				return nil, p.errorf(it.line, "template %q is already defined at line %d", name, prev.line)
			}
			body, end, err := p.list(it)
			if err != nil {
				return nil, err
			}
			if end != "end" {
				return nil, p.errorf(p.items[p.pos-1].line, "{{else}} in {{define}}")
			}
			defs[name] = &definition{file: file, line: it.line, body: body}
		}
	}
	return defs, nil
}

// list parses nodes up to the {{end}} or {{else}} that closes open, and returns which one
// (with "else if" or "else with" when the else opens another branch, which is then left for
// the caller to parse).
func (p *parser) list(open item) ([]node, string, error) {
	var nodes []node
	for p.pos < len(p.items) {
		it := p.items[p.pos]
		p.pos++
		if !it.action {
			if it.text != "" {
				nodes = append(nodes, &textNode{line: it.line, text: it.text})
			}
			continue
		}
		if it.comment {
			continue
		}
		words, err := p.words(it)
		if err != nil {
			return nil, "", err
		}
		if len(words) == 0 {
			return nil, "", p.errorf(it.line, "empty action")
		}
		switch words[0] {
		case "end":
			if len(words) != 1 {
				return nil, "", p.errorf(it.line, "unexpected %q in {{end}}", words[1])
			}
			return nodes, "end", nil
		case "else":
			if len(words) == 1 {
				return nodes, "else", nil
			}
			if words[1] != "if" && words[1] != "with" {
				return nil, "", p.errorf(it.line, "unexpected %q after {{else}}", words[1])
			}
			p.pos-- // the branch it opens is parsed by the caller, from this item
			return nodes, "else " + words[1], nil
		case "if", "with", "range":
			n, err := p.branch(it, words[0], words[1:])
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, n)
		case "template":
			if len(words) < 2 {
				return nil, "", p.errorf(it.line, "{{template}} needs a name")
			}
			name, err := p.name(it, words[1])
			if err != nil {
				return nil, "", err
			}
			n := &callNode{line: it.line, name: name}
			if len(words) > 2 {
				cmd, err := p.command(it, words[2:])
				if err != nil {
					return nil, "", err
				}
				n.arg = &cmd
			}
			nodes = append(nodes, n)
		case "define", "block", "break", "continue":
			return nil, "", p.errorf(it.line, "{{%s}} is not supported here", words[0])
		default:
			cmd, err := p.command(it, words)
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, &actionNode{line: it.line, cmd: cmd})
		}
	}
	return nil, "", p.errorf(open.line, "{{%s}} is not closed by {{end}}", open.text)
}

// branch parses {{if}}, {{with}} or {{range}} from its words after the keyword.
func (p *parser) branch(open item, keyword string, words []string) (*branchNode, error) {
	if len(words) == 0 {
		return nil, p.errorf(open.line, "{{%s}} needs a value", keyword)
	}
	cmd, err := p.command(open, words)
	if err != nil {
		return nil, err
	}
	n := &branchNode{line: open.line, keyword: keyword, cmd: cmd}
	list, end, err := p.list(open)
	if err != nil {
		return nil, err
	}
	n.list = list
	switch end {
	case "end":
		return n, nil
	case "else":
		elseList, end, err := p.list(open)
		if err != nil {
			return nil, err
		}
		if end != "end" {
			return nil, p.errorf(p.items[p.pos-1].line, "{{%s}} has a second {{else}}", keyword)
		}
		n.elseList = elseList
		return n, nil
	}
	// {{else if}} or {{else with}}: a branch of its own that closes with this one's {{end}}.
	elseItem := p.items[p.pos]
	p.pos++
	elseWords, _ := p.words(elseItem)
	if elseWords[1] != keyword || keyword == "range" {
		return nil, p.errorf(elseItem.line, "{{else %s}} in {{%s}}", elseWords[1], keyword)
	}
	inner, err := p.branch(elseItem, elseWords[1], elseWords[2:])
	if err != nil {
		return nil, err
	}
	n.elseList = []node{inner}
	return n, nil
}

// command parses a function call or a single operand.
func (p *parser) command(it item, words []string) (command, error) {
	cmd := command{token: strings.Join(words, " ")}
	if isIdentifier(words[0]) && words[0] != "true" && words[0] != "false" {
		f, ok := p.funcs(words[0])
		if !ok {
			return command{}, p.errorf(it.line, "function %q is not defined", words[0])
		}
		cmd.fn, cmd.name, words = f, words[0], words[1:]
	} else if len(words) > 1 {
		if _, err := p.operand(it, words[0]); err != nil {
			return command{}, err
		}
		return command{}, p.errorf(it.line, "unexpected %q after %q", words[1], words[0])
	}
	for _, w := range words {
		o, err := p.operand(it, w)
		if err != nil {
			return command{}, err
		}
		cmd.args = append(cmd.args, o)
	}
	return cmd, nil
}

func (p *parser) operand(it item, w string) (operand, error) {
	switch {
	case w == ".":
		return operand{}, nil
	case w[0] == '.':
		fields := strings.Split(w[1:], ".")
		for _, f := range fields {
			if !isIdentifier(f) {
				return operand{}, p.errorf(it.line, "bad field %q in %q", f, w)
			}
		}
		return operand{fields: fields}, nil
	case w == "true" || w == "false":
		return operand{value: w == "true", isConst: true}, nil
	case w[0] == '"' || w[0] == '`':
		s, err := strconv.Unquote(w)
		if err != nil {
			return operand{}, p.errorf(it.line, "bad string %s", w)
		}
		return operand{value: s, isConst: true}, nil
	case w[0] == '-' || w[0] == '+' || '0' <= w[0] && w[0] <= '9':
		n, err := strconv.ParseInt(w, 0, 64)
		if err != nil {
			return operand{}, p.errorf(it.line, "bad number %s (only integers are supported)", w)
		}
		return operand{value: int(n), isConst: true}, nil
	case isIdentifier(w):
		return operand{}, p.errorf(it.line, "function %q as an argument: calls cannot nest", w)
	}
	return operand{}, p.errorf(it.line, "unsupported %q (no pipelines, variables or parentheses)", w)
}

// name reads a template name, which must be a string constant.
func (p *parser) name(it item, w string) (string, error) {
	if w == "" || w[0] != '"' && w[0] != '`' {
		return "", p.errorf(it.line, "template name %s is not a quoted string", w)
	}
	s, err := strconv.Unquote(w)
	if err != nil {
		return "", p.errorf(it.line, "bad template name %s", w)
	}
	return s, nil
}

// words splits an action into its words: quoted strings stay whole.
func (p *parser) words(it item) ([]string, error) {
	var words []string
	s := it.text
	for {
		s = strings.TrimLeft(s, blanks)
		if s == "" {
			return words, nil
		}
		end := strings.IndexAny(s, blanks)
		if q := s[0]; q == '"' || q == '`' || q == '\'' {
			end = 1
			for end < len(s) && s[end] != q {
				if s[end] == '\\' && q != '`' {
					end++
				}
				end++
			}
			end++
			if end < len(s) && strings.IndexByte(blanks, s[end]) < 0 {
				return nil, p.errorf(it.line, "unexpected %q after a string", s[end:])
			}
		}
		if end < 0 || end > len(s) {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}
