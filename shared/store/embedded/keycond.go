package embedded

import (
	"bytes"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A keyCondition is a query's KeyConditionExpression, resolved: the partition key's value,
// and the condition on the sort key, if any.
type keyCondition struct {
	hash types.AttributeValue
	sort *sortCondition
}

// A sortCondition is op ("=", "<", "<=", ">", ">=", "BETWEEN" or "begins_with") on the sort
// key, with its one or two values.
type sortCondition struct {
	op     string
	values []types.AttributeValue
}

// parseKeyCondition reads the grammar DynamoDB accepts for key conditions: an equality on
// the partition key, optionally AND one comparison, BETWEEN or begins_with on the sort key.
func parseKeyCondition(expr string, names map[string]string, values item, ix *index, attrTypes map[string]types.ScalarAttributeType) (keyCondition, error) {
	p := &keyParser{tokens: tokenize(expr), names: names, values: values}
	var terms []term
	for {
		t, err := p.term()
		if err != nil {
			return keyCondition{}, err
		}
		terms = append(terms, t)
		if p.peek() == "" {
			break
		}
		if !strings.EqualFold(p.next(), "AND") || len(terms) == 2 {
			return keyCondition{}, validation("Invalid KeyConditionExpression: Syntax error; the key condition is a partition key equality, optionally AND one sort key condition: %s", expr)
		}
	}
	var kc keyCondition
	for _, t := range terms {
		for _, v := range t.values {
			if scalarType(v) != attrTypes[t.attr] {
				return keyCondition{}, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		switch {
		case t.attr == ix.hash && t.op == "=" && kc.hash == nil:
			kc.hash = t.values[0]
		case t.attr == ix.rng && kc.sort == nil:
			kc.sort = &sortCondition{op: t.op, values: t.values}
		case t.attr == ix.hash:
			return keyCondition{}, validation("Query key condition not supported")
		default:
			return keyCondition{}, validation("Query condition missed key schema element: %s", ix.hash)
		}
	}
	if kc.hash == nil {
		return keyCondition{}, validation("Query condition missed key schema element: %s", ix.hash)
	}
	if kc.sort != nil && kc.sort.op == "begins_with" {
		if _, ok := kc.sort.values[0].(*types.AttributeValueMemberN); ok {
			return keyCondition{}, validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
		}
	}
	return kc, nil
}

// A term is one condition on one key attribute.
type term struct {
	attr   string
	op     string
	values []types.AttributeValue
}

type keyParser struct {
	tokens []string
	names  map[string]string
	values item
}

func (p *keyParser) peek() string {
	if len(p.tokens) == 0 {
		return ""
	}
	return p.tokens[0]
}

func (p *keyParser) next() string {
	t := p.peek()
	if t != "" {
		p.tokens = p.tokens[1:]
	}
	return t
}

func (p *keyParser) expect(tok string) error {
	if got := p.next(); got != tok {
		return validation("Invalid KeyConditionExpression: Syntax error; token: %q, near: %q", got, tok)
	}
	return nil
}

func (p *keyParser) term() (term, error) {
	switch tok := p.next(); {
	case tok == "(":
		t, err := p.term()
		if err != nil {
			return term{}, err
		}
		return t, p.expect(")")
	case tok == "begins_with":
		if err := p.expect("("); err != nil {
			return term{}, err
		}
		attr, err := p.name(p.next())
		if err != nil {
			return term{}, err
		}
		if err := p.expect(","); err != nil {
			return term{}, err
		}
		v, err := p.value(p.next())
		if err != nil {
			return term{}, err
		}
		return term{attr: attr, op: "begins_with", values: []types.AttributeValue{v}}, p.expect(")")
	default:
		attr, err := p.name(tok)
		if err != nil {
			return term{}, err
		}
		op := p.next()
		if strings.EqualFold(op, "BETWEEN") {
			lo, err := p.value(p.next())
			if err != nil {
				return term{}, err
			}
			if and := p.next(); !strings.EqualFold(and, "AND") {
				return term{}, validation("Invalid KeyConditionExpression: Syntax error; token: %q, near: BETWEEN", and)
			}
			hi, err := p.value(p.next())
			if err != nil {
				return term{}, err
			}
			if compareKeys(lo, hi) > 0 {
				return term{}, validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
			}
			return term{attr: attr, op: "BETWEEN", values: []types.AttributeValue{lo, hi}}, nil
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return term{}, validation("Invalid KeyConditionExpression: Syntax error; token: %q", op)
		}
		v, err := p.value(p.next())
		if err != nil {
			return term{}, err
		}
		return term{attr: attr, op: op, values: []types.AttributeValue{v}}, nil
	}
}

func (p *keyParser) name(tok string) (string, error) {
	if strings.HasPrefix(tok, "#") {
		n, ok := p.names[tok]
		if !ok {
			return "", validation("Invalid KeyConditionExpression: An expression attribute name used in the document path is not defined; attribute name: %s", tok)
		}
		return n, nil
	}
	if tok == "" || strings.ContainsAny(tok[:1], ":(),=<>") {
		return "", validation("Invalid KeyConditionExpression: Syntax error; token: %q", tok)
	}
	return tok, nil
}

func (p *keyParser) value(tok string) (types.AttributeValue, error) {
	v, ok := p.values[tok]
	if !strings.HasPrefix(tok, ":") || !ok {
		return nil, validation("Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: %s", tok)
	}
	return v, nil
}

// tokenize splits an expression into names, placeholders, operators and parentheses.
func tokenize(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case strings.IndexByte("(),=", c) >= 0:
			out = append(out, s[i:i+1])
			i++
		case c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				out = append(out, s[i:i+2])
				i += 2
			} else {
				out = append(out, s[i:i+1])
				i++
			}
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && strings.IndexByte("(),=<>", s[j]) < 0 {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

// hasPrefix reports whether the string or binary v begins with prefix.
func hasPrefix(v, prefix types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		p, ok := prefix.(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(v.Value, p.Value)
	case *types.AttributeValueMemberB:
		p, ok := prefix.(*types.AttributeValueMemberB)
		return ok && bytes.HasPrefix(v.Value, p.Value)
	}
	return false
}
