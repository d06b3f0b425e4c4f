// Package samtemplate reads a SAM/CloudFormation template into plain Go values (maps, slices,
// strings, numbers, booleans), with the short-form tags (!Ref, !Sub, !GetAtt, !If, ...)
// turned into their long forms ({"Ref": ...}, {"Fn::Sub": ...}), so that tests can compare
// the template with the code it deploys.
package samtemplate

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template.
type Template struct {
	Doc       map[string]any      // the whole document
	Globals   map[string]any      // the Globals section, nil when absent
	Resources map[string]Resource // by logical id
}

// Resource is one entry of the Resources section.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template.
func Parse(data []byte) (*Template, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is a %T, not a mapping", v)
	}
	t := &Template{Doc: doc, Resources: map[string]Resource{}}
	t.Globals, _ = doc["Globals"].(map[string]any)
	resources, ok := doc["Resources"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template has no Resources mapping")
	}
	for id, raw := range resources {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is a %T, not a mapping", id, raw)
		}
		typ, _ := m["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		r := Resource{Type: typ}
		r.Properties, _ = m["Properties"].(map[string]any)
		r.Metadata, _ = m["Metadata"].(map[string]any)
		t.Resources[id] = r
	}
	return t, nil
}

// OfType returns the logical ids of the resources of a type.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// FunctionProperty is a property of an AWS::Serverless::Function as SAM sees it: the
// resource's own value, merged with Globals.Function's (maps merge, the resource's keys
// win; other values are replaced).
func (t *Template) FunctionProperty(id, name string) any {
	var global any
	if g, ok := t.Globals["Function"].(map[string]any); ok {
		global = g[name]
	}
	own := t.Resources[id].Properties[name]
	return merge(global, own)
}

func merge(global, own any) any {
	if own == nil {
		return global
	}
	g, gok := global.(map[string]any)
	o, ook := own.(map[string]any)
	if !gok || !ook {
		return own
	}
	out := map[string]any{}
	for k, v := range g {
		out[k] = v
	}
	for k, v := range o {
		out[k] = merge(g[k], v)
	}
	return out
}

// Decode parses YAML (or JSON) into plain values, CloudFormation tags included.
func Decode(data []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 {
		return nil, fmt.Errorf("empty document")
	}
	return value(&n)
}

// The short-form tags and their long-form keys.
var functions = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Sub":          "Fn::Sub",
	"!GetAtt":       "Fn::GetAtt",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!Not":          "Fn::Not",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!ImportValue":  "Fn::ImportValue",
	"!GetAZs":       "Fn::GetAZs",
	"!Transform":    "Fn::Transform",
	"!ToJsonString": "Fn::ToJsonString",
	"!Length":       "Fn::Length",
}

func value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return value(n.Content[0])
	case yaml.AliasNode:
		return value(n.Alias)
	}
	if long, ok := functions[n.Tag]; ok {
		return intrinsic(n, long)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys are not supported", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			val, err := value(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := value(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		return s, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

// intrinsic turns a tagged node into {long: argument}. The argument is the node without its
// tag; !GetAtt's scalar form "Resource.Attribute" becomes ["Resource", "Attribute"].
func intrinsic(n *yaml.Node, long string) (any, error) {
	plain := *n
	plain.Tag = ""
	switch n.Kind {
	case yaml.ScalarNode:
		plain.Tag = "!!str"
	case yaml.MappingNode:
		plain.Tag = "!!map"
	case yaml.SequenceNode:
		plain.Tag = "!!seq"
	}
	arg, err := value(&plain)
	if err != nil {
		return nil, err
	}
	if long == "Fn::GetAtt" {
		if s, ok := arg.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			arg = []any{res, attr}
		}
	}
	return map[string]any{long: arg}, nil
}
