package asl

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestPathLookup(t *testing.T) {
	data := `{"a": {"b": [10, {"c": "deep"}]}, "odd key": 1}`
	context := `{"Task": {"Token": "tok"}}`
	tests := []struct {
		path   string
		want   string // JSON; empty when nothing matches
		hasErr bool
	}{
		{path: "$", want: data},
		{path: "$.a.b[0]", want: "10"},
		{path: "$.a.b[1].c", want: `"deep"`},
		{path: "$['odd key']", want: "1"},
		{path: "$$.Task.Token", want: `"tok"`},
		{path: "$.a.missing"},
		{path: "$.a.b[7]"},
		{path: "$.a.b.c"},
		{path: "a.b", hasErr: true},
		{path: "$.a.*", hasErr: true},
		{path: "$..a", hasErr: true},
		{path: "$.a[?(@.b)]", hasErr: true},
		{path: "$.a[-1]", hasErr: true},
		{path: "$.a[0", hasErr: true},
		{path: "$a", hasErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parsePath(tt.path)
			if (err != nil) != tt.hasErr {
				t.Fatalf("parsePath(%q) error = %v, want error %v", tt.path, err, tt.hasErr)
			}
			if tt.hasErr {
				return
			}
			got, ok := p.lookup(mustDecode(t, data), mustDecode(t, context))
			if ok != (tt.want != "") {
				t.Fatalf("lookup found = %v, want %v", ok, tt.want != "")
			}
			if ok {
				if diff := cmp.Diff(mustDecode(t, tt.want), got); diff != "" {
					t.Errorf("lookup (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestResultPathMerge(t *testing.T) {
	input := `{"keep": 1, "a": {"x": 2}, "n": 3}`
	tests := []struct {
		name       string
		resultPath string // "null" for discard
		want       string
		wantError  string
	}{
		{name: "root replaces the input", resultPath: "$", want: `{"r": true}`},
		{name: "null keeps the input", resultPath: "null", want: input},
		{name: "new field", resultPath: "$.result", want: `{"keep": 1, "a": {"x": 2}, "n": 3, "result": {"r": true}}`},
		{name: "nested into existing object", resultPath: "$.a.y", want: `{"keep": 1, "a": {"x": 2, "y": {"r": true}}, "n": 3}`},
		{name: "creates missing objects", resultPath: "$.b.c", want: `{"keep": 1, "a": {"x": 2}, "n": 3, "b": {"c": {"r": true}}}`},
		{name: "cannot cross a number", resultPath: "$.n.c", wantError: errResultPathMatchFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.resultPath)
			o := object{"ResultPath": raw}
			if tt.resultPath == "null" {
				o["ResultPath"] = json.RawMessage("null")
			}
			p, err := o.resultPath("ResultPath")
			if err != nil {
				t.Fatal(err)
			}
			in := mustDecode(t, input)
			got, fail := p.merge(in, mustDecode(t, `{"r": true}`))
			if tt.wantError != "" {
				if fail == nil || fail.Error != tt.wantError {
					t.Fatalf("merge failure = %+v, want %s", fail, tt.wantError)
				}
				return
			}
			if fail != nil {
				t.Fatalf("merge: %+v", fail)
			}
			if diff := cmp.Diff(mustDecode(t, tt.want), got); diff != "" {
				t.Errorf("merge (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(mustDecode(t, input), in); diff != "" {
				t.Errorf("merge modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestTemplateResolve(t *testing.T) {
	tests := []struct {
		name      string
		template  string
		want      string
		wantError string
	}{
		{
			name:     "static, input and context values, nested",
			template: `{"fixed": [1, {"a.$": "not a path here"}], "id.$": "$.id", "token.$": "$$.Task.Token", "inner": {"n.$": "$.list[1]"}}`,
			want:     `{"fixed": [1, {"a.$": "not a path here"}], "id": "r1", "token": "tok", "inner": {"n": 20}}`,
		},
		{
			name:      "missing path",
			template:  `{"x.$": "$.nothing"}`,
			wantError: errParameterPathFailure,
		},
	}
	data := mustDecode(t, `{"id": "r1", "list": [10, 20]}`)
	context := mustDecode(t, `{"Task": {"Token": "tok"}}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := compileTemplate(json.RawMessage(tt.template))
			if err != nil {
				t.Fatal(err)
			}
			got, fail := tmpl.resolve(data, context)
			if tt.wantError != "" {
				if fail == nil || fail.Error != tt.wantError {
					t.Fatalf("resolve failure = %+v, want %s", fail, tt.wantError)
				}
				return
			}
			if fail != nil {
				t.Fatalf("resolve: %+v", fail)
			}
			if diff := cmp.Diff(mustDecode(t, tt.want), any(got)); diff != "" {
				t.Errorf("resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailureMatches(t *testing.T) {
	tests := []struct {
		error string
		names []string
		want  bool
	}{
		{error: "Refused", names: []string{"Refused"}, want: true},
		{error: "Refused", names: []string{"Cancelled"}, want: false},
		{error: "Refused", names: []string{errAll}, want: true},
		{error: errTimeout, names: []string{errAll}, want: true},
		{error: errRuntime, names: []string{errAll}, want: false},
		{error: "Unavailable", names: []string{errTaskFailed}, want: true},
		{error: errTimeout, names: []string{errTaskFailed}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.error+"/"+tt.names[0], func(t *testing.T) {
			f := &failure{Error: tt.error}
			if got := f.matches(tt.names); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}
