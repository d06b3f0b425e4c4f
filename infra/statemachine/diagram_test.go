package statemachine

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMermaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		definition string
		want       string // without the leading "stateDiagram-v2\n"
	}{
		{
			name: "task chain",
			definition: `{"StartAt": "A", "States": {
				"C": {"Type": "Task", "Resource": "${C}", "End": true},
				"A": {"Type": "Task", "Resource": "${A}", "Next": "B"},
				"B": {"Type": "Pass", "Next": "C"}}}`,
			want: `
    [*] --> A
    A --> B
    B --> C
    C --> [*]
`,
		},
		{
			name: "Succeed and Fail end the machine",
			definition: `{"StartAt": "Check", "States": {
				"Check": {"Type": "Task", "Next": "Done", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}]},
				"Done": {"Type": "Succeed"},
				"Broken": {"Type": "Fail", "Error": "Broken", "Cause": "it broke"}}}`,
			want: `
    [*] --> Check
    Check --> Done
    Check --> Broken: States.ALL
    Done --> [*]
    Broken --> [*]
`,
		},
		{
			name: "catch edges in order, error names joined, walked after Next",
			definition: `{"StartAt": "Work", "States": {
				"Work": {"Type": "Task", "Next": "Apply", "Catch": [
					{"ErrorEquals": ["Refused", "Cancelled"], "ResultPath": "$.error", "Next": "Zed"},
					{"ErrorEquals": ["States.Timeout"], "Next": "Alpha"}]},
				"Apply": {"Type": "Task", "Next": "Tidy"},
				"Tidy": {"Type": "Task", "End": true},
				"Alpha": {"Type": "Task", "End": true},
				"Zed": {"Type": "Task", "End": true}}}`,
			want: `
    [*] --> Work
    Work --> Apply
    Work --> Zed: Refused, Cancelled
    Work --> Alpha: States.Timeout
    Apply --> Tidy
    Tidy --> [*]
    Zed --> [*]
    Alpha --> [*]
`,
		},
		{
			name: "map with inner states, nested",
			definition: `{"StartAt": "Outer", "States": {
				"Outer": {"Type": "Map", "ItemsPath": "$.items", "Next": "After",
					"Catch": [{"ErrorEquals": ["Refused"], "Next": "Refusal"}],
					"ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "First", "States": {
						"First": {"Type": "Task", "Next": "Inner", "Retry": [{"ErrorEquals": ["States.ALL"]}]},
						"Inner": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Leaf", "States": {
							"Leaf": {"Type": "Task", "End": true}}}}}}},
				"After": {"Type": "Succeed"},
				"Refusal": {"Type": "Task", "End": true}}}`,
			want: `
    [*] --> Outer
    state Outer {
        [*] --> First
        First --> Inner
        state Inner {
            [*] --> Leaf
            Leaf --> [*]
        }
        Inner --> [*]
    }
    Outer --> After
    Outer --> Refusal: Refused
    After --> [*]
    Refusal --> [*]
`,
		},
		{
			name: "map with the former Iterator field",
			definition: `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
				"Iterator": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}}}`,
			want: `
    [*] --> M
    state M {
        [*] --> P
        P --> [*]
    }
    M --> [*]
`,
		},
		{
			name: "choice branches and default",
			definition: `{"StartAt": "Pick", "States": {
				"Pick": {"Type": "Choice", "Default": "Other",
					"Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}, {"Variable": "$.n", "NumericEquals": 2, "Next": "Two"}]},
				"One": {"Type": "Succeed"}, "Two": {"Type": "Succeed"}, "Other": {"Type": "Fail"}}}`,
			want: `
    [*] --> Pick
    Pick --> One
    Pick --> Two
    Pick --> Other: Default
    One --> [*]
    Two --> [*]
    Other --> [*]
`,
		},
		{
			name: "unreached states last: a walk from each by name",
			definition: `{"StartAt": "Start", "States": {
				"Start": {"Type": "Succeed"},
				"Orphan": {"Type": "Task", "Next": "Child"},
				"Child": {"Type": "Task", "End": true},
				"Branch": {"Type": "Task", "Next": "Zed"},
				"Zed": {"Type": "Task", "End": true},
				"Lonely": {"Type": "Fail"}}}`,
			want: `
    [*] --> Start
    Start --> [*]
    Branch --> Zed
    Zed --> [*]
    Child --> [*]
    Lonely --> [*]
    Orphan --> Child
`,
		},
		{
			name: "cycle drawn once",
			definition: `{"StartAt": "Poll", "States": {
				"Poll": {"Type": "Task", "Next": "Wait"},
				"Wait": {"Type": "Wait", "Seconds": 5, "Next": "Poll"}}}`,
			want: `
    [*] --> Poll
    Poll --> Wait
    Wait --> Poll
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Mermaid([]byte(tt.definition))
			if err != nil {
				t.Fatalf("Mermaid: %v", err)
			}
			if diff := cmp.Diff("stateDiagram-v2"+tt.want, got); diff != "" {
				t.Errorf("Mermaid (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMermaidRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		definition string
		wantErr    string
	}{
		{
			name:       "dangling Next",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "Nowhere"}}}`,
			wantErr:    `state "A" (in the top level): goes to "Nowhere", which is not a state here`,
		},
		{
			name: "dangling Catch",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task", "End": true,
				"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}}}`,
			wantErr: `goes to "Gone"`,
		},
		{
			name:       "dangling Choice Default",
			definition: `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Next": "C"}], "Default": "Gone"}}}`,
			wantErr:    `goes to "Gone"`,
		},
		{
			name: "inner state going to an outer one",
			definition: `{"StartAt": "M", "States": {
				"M": {"Type": "Map", "Next": "Out", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Task", "Next": "Out"}}}},
				"Out": {"Type": "Succeed"}}}`,
			wantErr: `state "P" (in M's ItemProcessor): goes to "Out", which is not a state here`,
		},
		{
			name:       "unknown StartAt",
			definition: `{"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}`,
			wantErr:    `StartAt "B" is not one of its states`,
		},
		{
			name:       "no StartAt",
			definition: `{"States": {"A": {"Type": "Succeed"}}}`,
			wantErr:    `the top level has no StartAt`,
		},
		{
			name:       "neither Next nor End",
			definition: `{"StartAt": "A", "States": {"A": {"Type": "Task"}}}`,
			wantErr:    `has neither Next nor End`,
		},
		{
			name:       "Map without ItemProcessor",
			definition: `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true}}}`,
			wantErr:    `needs an ItemProcessor`,
		},
		{
			name: "Parallel",
			definition: `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
				"Branches": [{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}]}}}`,
			wantErr: `type "Parallel" cannot be drawn`,
		},
		{
			name: "name shared by an inner and an outer state",
			definition: `{"StartAt": "M", "States": {
				"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "M", "States": {"M": {"Type": "Succeed"}}}}}}`,
			wantErr: `names must be unique`,
		},
		{
			name:       "name Mermaid cannot take",
			definition: `{"StartAt": "Wait a bit", "States": {"Wait a bit": {"Type": "Succeed"}}}`,
			wantErr:    `only letters, digits and _`,
		},
		{
			name:       "not JSON",
			definition: `{"StartAt": `,
			wantErr:    `decode state machine definition`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Mermaid([]byte(tt.definition))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Mermaid: error %v, want one containing %q; drew:\n%s", err, tt.wantErr, got)
			}
		})
	}
}

func TestREADMEDiagramMatchesDefinition(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _, err := SplitREADME(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	diagram, err := Mermaid(Definition)
	if err != nil {
		t.Fatalf("Mermaid(Definition): %v", err)
	}
	want := "```mermaid\n" + diagram + "```\n"
	if block != want {
		t.Errorf("README.md's diagram is not contact-change.asl.json's: run `make diagram` (-README +definition):\n%s",
			cmp.Diff(block, want))
	}
}

// TestDiagramShowsEveryStateAndCatch reads Definition without Mermaid's own types, so that
// a state or catcher the generator failed to decode cannot go missing unnoticed.
func TestDiagramShowsEveryStateAndCatch(t *testing.T) {
	t.Parallel()
	diagram, err := Mermaid(Definition)
	if err != nil {
		t.Fatalf("Mermaid(Definition): %v", err)
	}
	lines := map[string]bool{}
	words := map[string]bool{}
	for line := range strings.Lines(diagram) {
		line = strings.TrimSpace(line)
		lines[line] = true
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" {}:", r) }) {
			words[w] = true
		}
	}

	var def any
	if err := json.Unmarshal(Definition, &def); err != nil {
		t.Fatal(err)
	}
	var check func(machine any, where string)
	check = func(machine any, where string) {
		states, ok := machine.(map[string]any)["States"].(map[string]any)
		if !ok || len(states) == 0 {
			t.Fatalf("%s has no States", where)
		}
		for name, s := range states {
			s := s.(map[string]any)
			if !words[name] {
				t.Errorf("state %s (in %s) is not in the diagram", name, where)
			}
			catchers, _ := s["Catch"].([]any)
			for _, c := range catchers {
				c := c.(map[string]any)
				var errs []string
				for _, e := range c["ErrorEquals"].([]any) {
					errs = append(errs, e.(string))
				}
				edge := name + " --> " + c["Next"].(string) + ": " + strings.Join(errs, ", ")
				if !lines[edge] {
					t.Errorf("catch edge %q is not in the diagram", edge)
				}
			}
			if p, ok := s["ItemProcessor"]; ok {
				if !lines["state "+name+" {"] {
					t.Errorf("map state %s is not drawn as a composite state", name)
				}
				check(p, name+"'s ItemProcessor")
			}
		}
	}
	check(def, "the top level")
}

func TestSplitREADME(t *testing.T) {
	t.Parallel()
	const doc = "# T\n\n" + DiagramBegin + "\nold\nlines\n" + DiagramEnd + "\nrest\n"
	head, block, tail, err := SplitREADME(doc)
	if err != nil {
		t.Fatal(err)
	}
	if head != "# T\n\n"+DiagramBegin+"\n" || block != "old\nlines\n" || tail != DiagramEnd+"\nrest\n" {
		t.Errorf("SplitREADME = %q, %q, %q", head, block, tail)
	}

	for name, doc := range map[string]string{
		"no begin":        "x\n" + DiagramEnd + "\n",
		"no end":          DiagramBegin + "\nx\n",
		"end first":       DiagramEnd + "\nx\n" + DiagramBegin + "\n",
		"begin twice":     DiagramBegin + "\n" + DiagramBegin + "\n" + DiagramEnd + "\n",
		"begin mid-line":  "see " + DiagramBegin + "\n" + DiagramEnd + "\n",
		"end not on line": DiagramBegin + "\n" + DiagramEnd + " x\n",
	} {
		if _, _, _, err := SplitREADME(doc); err == nil {
			t.Errorf("SplitREADME(%s): no error", name)
		}
	}
}
