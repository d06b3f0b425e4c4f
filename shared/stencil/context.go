package stencil

import (
	"fmt"
	"html"
	"strings"
)

// The HTML contexts of an HTML set's actions are worked out once, when parsing, by following
// the literal text as the HTML tokenizer would (after html/template's transition.go, cut to
// the contexts stencil escapes for and those it must recognise to refuse).

type state uint8

const (
	stateText        state = iota // element content
	stateTag                      // in a tag, between attributes
	stateAttrName                 // in an attribute name
	stateAfterName                // after an attribute name, before = or the next one
	stateBeforeValue              // after =, before the value
	stateAttr                     // in an attribute value
	stateRCDATA                   // in a title or textarea element
	stateStyle                    // in a style element
	stateComment                  // in <!-- -->
)

// element is a start tag's element, when its content is not plain HTML.
type element uint8

const (
	elementNone element = iota
	elementTitle
	elementTextarea
	elementStyle
	elementScript
)

var elements = map[string]element{
	"title":    elementTitle,
	"textarea": elementTextarea,
	"style":    elementStyle,
	"script":   elementScript,
}

// attrKind is what an attribute's value holds.
type attrKind uint8

const (
	attrPlain  attrKind = iota
	attrURL             // a URL: href, src, action...
	attrScript          // script: on*
	attrStyle           // CSS: style
	attrSrcset          // srcset
)

type delim uint8

const (
	delimNone   delim = iota
	delimDouble       // "value"
	delimSingle       // 'value'
	delimSpace        // an unquoted value, ended by a blank or >
)

type urlPart uint8

const (
	urlStart urlPart = iota // nothing of the URL yet
	urlPath                 // the scheme, host or path
	urlQuery                // after ? or #
)

// context is where in an HTML document a point of a template lies.
type context struct {
	state   state
	element element
	attr    attrKind
	delim   delim
	url     urlPart
}

func (c context) String() string {
	switch c.state {
	case stateText:
		return "text"
	case stateTag, stateAttrName, stateAfterName:
		return "a tag"
	case stateBeforeValue:
		return "a tag, before an attribute value"
	case stateAttr:
		if c.delim == delimSpace {
			return "an unquoted attribute value"
		}
		return [...]string{"an attribute value", "a URL attribute value", "an event handler attribute", "a style attribute", "a srcset attribute"}[c.attr]
	case stateRCDATA:
		return "a title or textarea element"
	case stateStyle:
		return "a style element"
	case stateComment:
		return "an HTML comment"
	}
	return "an unknown context"
}

// advance follows text from c and returns the context after it, and the text to write,
// changed as html/template changes it: HTML comments left out, and in element content a <
// that starts no tag (nor a doctype) written &lt;. On error, at is where in text it lies.
func advance(c context, text string) (_ context, _ string, at int, _ error) {
	var out strings.Builder
	for i := 0; i < len(text); {
		next, n, skip, err := transition(c, text[i:])
		if err != nil {
			return c, "", i + n, err // n: where in the rest the error lies
		}
		chunk := text[i : i+n-skip]
		switch c.state {
		case stateComment:
			chunk = ""
		case stateText, stateRCDATA:
			end := len(chunk)
			if next.state != c.state {
				// The last < starts the tag or comment the chunk ends with.
				end = max(strings.LastIndexByte(text[i:i+n], '<'), 0)
				end = min(end, len(chunk))
			}
			written := 0
			for j := range end {
				if chunk[j] == '<' && !isDoctype(text[i+j:]) {
					out.WriteString(chunk[written:j])
					out.WriteString("&lt;")
					written = j + 1
				}
			}
			chunk = chunk[written:]
		}
		out.WriteString(chunk)
		c, i = next, i+n
	}
	return c, out.String(), 0, nil
}

// transition reads the start of s in c: it returns the context after the n bytes it read,
// of which the last skip are not to be written; on error, n is where the error lies.
func transition(c context, s string) (next context, n, skip int, err error) {
	switch c.state {
	case stateText:
		return textTransition(c, s)
	case stateTag:
		next, n, err = tagTransition(c, s)
		return next, n, 0, err
	case stateAttrName:
		i := attrNameEnd(s, 0)
		if i < 0 {
			return c, 0, 0, fmt.Errorf("%q in an attribute name", s[-i-1])
		}
		if i < len(s) {
			c.state = stateAfterName
		}
		return c, i, 0, nil
	case stateAfterName:
		i := len(s) - len(strings.TrimLeft(s, htmlBlanks))
		switch {
		case i == len(s):
			return c, i, 0, nil
		case s[i] != '=':
			c.state = stateTag
			return c, i, 0, nil
		}
		c.state = stateBeforeValue
		return c, i + 1, 0, nil
	case stateBeforeValue:
		i := len(s) - len(strings.TrimLeft(s, htmlBlanks))
		if i == len(s) {
			return c, i, 0, nil
		}
		c.state, c.delim, c.url = stateAttr, delimSpace, urlStart
		switch s[i] {
		case '"':
			c.delim, i = delimDouble, i+1
		case '\'':
			c.delim, i = delimSingle, i+1
		}
		return c, i, 0, nil
	case stateAttr:
		return attrTransition(c, s)
	case stateRCDATA, stateStyle:
		i := specialTagEnd(s, c.element)
		if i < 0 {
			if c.state == stateStyle && strings.Trim(s, htmlBlanks) != "" {
				return c, 0, 0, fmt.Errorf("literal CSS in a style element (give it to the template as CSS)")
			}
			return c, len(s), 0, nil
		}
		if c.state == stateStyle && strings.Trim(s[:i], htmlBlanks) != "" {
			return c, 0, 0, fmt.Errorf("literal CSS in a style element (give it to the template as CSS)")
		}
		if i > 0 {
			// The content up to the end tag, then (reading nothing) the end of the element.
			return c, i, 0, nil
		}
		return context{}, 0, 0, nil
	case stateComment:
		if i := strings.Index(s, "-->"); i >= 0 {
			return context{}, i + 3, 0, nil
		}
		return c, len(s), 0, nil
	}
	panic("stencil: unknown state")
}

const htmlBlanks = " \t\n\f\r"

// isDoctype reports whether s starts with <!DOCTYPE, in any case.
func isDoctype(s string) bool {
	const doctype = "<!DOCTYPE"
	return len(s) >= len(doctype) && strings.EqualFold(s[:len(doctype)], doctype)
}

func textTransition(c context, s string) (context, int, int, error) {
	k := 0
	for {
		i := strings.IndexByte(s[k:], '<')
		if i < 0 || k+i+1 == len(s) {
			return c, len(s), 0, nil
		}
		i += k
		if strings.HasPrefix(s[i:], "<!--") {
			return context{state: stateComment}, i + 4, 4, nil
		}
		j, end := i+1, false
		if s[j] == '/' {
			if j+1 == len(s) {
				return c, len(s), 0, nil
			}
			j, end = j+1, true
		}
		if name, n := tagName(s[j:]); n > 0 {
			e := elements[strings.ToLower(name)]
			if end {
				e = elementNone
			}
			if e == elementScript {
				return c, i, 0, fmt.Errorf("script elements are not supported")
			}
			return context{state: stateTag, element: e}, j + n, 0, nil
		}
		k = j
	}
}

// tagName is the length of the tag name s starts with: letters and digits, with single
// inner ':' or '-'.
func tagName(s string) (string, int) {
	if s == "" || !isAlpha(s[0]) {
		return "", 0
	}
	j := 1
	for j < len(s) {
		if isAlnum(s[j]) {
			j++
			continue
		}
		if (s[j] == ':' || s[j] == '-') && j+1 < len(s) && isAlnum(s[j+1]) {
			j += 2
			continue
		}
		break
	}
	return s[:j], j
}

func tagTransition(c context, s string) (context, int, error) {
	i := len(s) - len(strings.TrimLeft(s, htmlBlanks))
	if i == len(s) {
		return c, len(s), nil
	}
	if s[i] == '>' {
		switch c.element {
		case elementTitle, elementTextarea:
			return context{state: stateRCDATA, element: c.element}, i + 1, nil
		case elementStyle:
			return context{state: stateStyle, element: c.element}, i + 1, nil
		}
		return context{}, i + 1, nil
	}
	j := attrNameEnd(s, i)
	if j < 0 {
		return c, 0, fmt.Errorf("%q in an attribute name", s[-j-1])
	}
	if j == i {
		return c, 0, fmt.Errorf("expected a blank, an attribute name or the end of the tag, got %.32q", s[i:])
	}
	c.attr = attrKindOf(strings.ToLower(s[i:j]))
	c.state = stateAfterName
	if j == len(s) {
		c.state = stateAttrName
	}
	return c, j, nil
}

// attrNameEnd is where the attribute name from s[i] ends; -1-k when s[k] may not be in one.
func attrNameEnd(s string, i int) int {
	for j := i; j < len(s); j++ {
		switch s[j] {
		case ' ', '\t', '\n', '\f', '\r', '=', '>':
			return j
		case '\'', '"', '<':
			return -1 - j
		}
	}
	return len(s)
}

// attrTransition reads an attribute value up to its end, if it ends in s.
func attrTransition(c context, s string) (context, int, int, error) {
	end := -1
	switch c.delim {
	case delimDouble:
		end = strings.IndexByte(s, '"')
	case delimSingle:
		end = strings.IndexByte(s, '\'')
	case delimSpace:
		end = strings.IndexAny(s, htmlBlanks+">")
	}
	value := s
	if end >= 0 {
		value = s[:end]
	}
	if c.attr == attrURL {
		c.url = urlAfter(c.url, html.UnescapeString(value))
	}
	if end < 0 {
		return c, len(s), 0, nil
	}
	next := context{state: stateTag, element: c.element}
	if c.delim == delimSpace {
		return next, end, 0, nil
	}
	return next, end + 1, 0, nil
}

// urlAfter is the part of a URL after literal text s.
func urlAfter(p urlPart, s string) urlPart {
	switch {
	case strings.ContainsAny(s, "#?"):
		return urlQuery
	case p == urlStart && strings.Trim(s, htmlBlanks) != "":
		return urlPath
	}
	return p
}

// specialTagEnd is where the end tag of e starts in s, or -1.
func specialTagEnd(s string, e element) int {
	name := map[element]string{elementTitle: "title", elementTextarea: "textarea", elementStyle: "style"}[e]
	for k := 0; ; {
		i := strings.Index(s[k:], "</")
		if i < 0 {
			return -1
		}
		i += k
		rest := s[i+2:]
		if len(rest) > len(name) && strings.EqualFold(rest[:len(name)], name) && strings.IndexByte("> \t\n\f/", rest[len(name)]) >= 0 {
			return i
		}
		k = i + 2
	}
}

// urlAttrs are the attributes whose value is a URL (html/template's attr.go).
var urlAttrs = map[string]bool{
	"action": true, "archive": true, "background": true, "cite": true, "classid": true,
	"codebase": true, "data": true, "formaction": true, "href": true, "icon": true,
	"longdesc": true, "manifest": true, "poster": true, "profile": true, "src": true,
	"usemap": true,
}

// attrKindOf classifies a lower-case attribute name as html/template does.
func attrKindOf(name string) attrKind {
	if strings.HasPrefix(name, "data-") {
		name = name[5:]
	} else if prefix, short, ok := strings.Cut(name, ":"); ok {
		if prefix == "xmlns" {
			return attrURL
		}
		name = short
	}
	switch {
	case urlAttrs[name]:
		return attrURL
	case name == "style":
		return attrStyle
	case name == "srcset":
		return attrSrcset
	case strings.HasPrefix(name, "on"):
		return attrScript
	case strings.Contains(name, "src"), strings.Contains(name, "uri"), strings.Contains(name, "url"):
		if name == "srcdoc" || name == "srclang" {
			return attrPlain
		}
		return attrURL
	}
	return attrPlain
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }
