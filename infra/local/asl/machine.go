package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Resources of the Task states the executor runs: Lambda's optimized integration, invoked
// and answered at once, or invoked and then waiting for a task token's answer.
const (
	resourceLambdaInvoke       = "arn:aws:states:::lambda:invoke"
	resourceLambdaWaitForToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"
)

// Machine is a parsed state machine definition (or a Map state's item processor).
type Machine struct {
	startAt string
	states  map[string]*state
}

type state struct {
	name string
	typ  string
	next string // "" for a terminal state

	inputPath, outputPath, resultPath optionalPath
	parameters, resultSelector        *template

	// Task
	function           string // Parameters.FunctionName
	waitForToken       bool
	timeoutSeconds     int64
	timeoutSecondsPath *path

	// Map
	itemsPath    path
	itemSelector *template
	processor    *Machine

	// Pass
	result    any
	hasResult bool

	// Fail
	errorName, cause string

	retriers []retrier
	catchers []catcher
}

type retrier struct {
	errorEquals []string
	interval    time.Duration
	maxAttempts int
	backoffRate float64
}

// delay is the wait before retry number attempt+1.
func (r retrier) delay(attempt int) time.Duration {
	d := float64(r.interval)
	for range attempt {
		d *= r.backoffRate
	}
	return time.Duration(d)
}

type catcher struct {
	errorEquals []string
	resultPath  optionalPath
	next        string
}

// fieldsByType lists, per supported state type, the fields the executor implements.
var fieldsByType = map[string][]string{
	"Pass":    {"Type", "Comment", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath", "Next", "End"},
	"Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
	"Fail":    {"Type", "Comment", "Error", "Cause"},
	"Task": {"Type", "Comment", "InputPath", "OutputPath", "Resource", "Parameters", "ResultSelector", "ResultPath",
		"TimeoutSeconds", "TimeoutSecondsPath", "Retry", "Catch", "Next", "End"},
	"Map": {"Type", "Comment", "InputPath", "OutputPath", "ItemsPath", "ItemSelector", "ItemProcessor",
		"ResultSelector", "ResultPath", "Retry", "Catch", "Next", "End"},
}

var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// Load parses a state machine definition after replacing each ${Name} with
// substitutions[Name], as SAM's DefinitionSubstitutions do. A placeholder without a
// substitution, and any state type or field outside the supported subset, is an error.
func Load(definition []byte, substitutions map[string]string) (*Machine, error) {
	var missing []string
	text := placeholder.ReplaceAllStringFunc(string(definition), func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := substitutions[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		quoted, _ := json.Marshal(v) // the placeholders sit inside JSON strings
		return string(quoted[1 : len(quoted)-1])
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("load state machine: no substitution for ${%s}", strings.Join(slices.Compact(missing), "}, ${"))
	}
	m, err := parseMachine(json.RawMessage(text), "definition", "Comment", "StartAt", "States")
	if err != nil {
		return nil, fmt.Errorf("load state machine: %w", err)
	}
	return m, nil
}

// functions lists the FunctionName values the machine's tasks invoke.
func (m *Machine) functions() []string {
	var names []string
	for _, st := range m.states {
		if st.function != "" {
			names = append(names, st.function)
		}
		if st.processor != nil {
			names = append(names, st.processor.functions()...)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func parseMachine(raw json.RawMessage, what string, fields ...string) (*Machine, error) {
	o, err := parseObject(raw, what, fields...)
	if err != nil {
		return nil, err
	}
	m := &Machine{states: map[string]*state{}}
	var states map[string]json.RawMessage
	if _, err := o.get("StartAt", &m.startAt); err != nil {
		return nil, fmt.Errorf("%s: StartAt: %w", what, err)
	}
	if _, err := o.get("States", &states); err != nil {
		return nil, fmt.Errorf("%s: States: %w", what, err)
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("%s: no States", what)
	}
	for name, raw := range states {
		st, err := parseState(name, raw)
		if err != nil {
			return nil, err
		}
		m.states[name] = st
	}
	if _, ok := m.states[m.startAt]; !ok {
		return nil, fmt.Errorf("%s: StartAt %q is not a state", what, m.startAt)
	}
	for _, st := range m.states {
		targets := []string{st.next}
		for _, c := range st.catchers {
			targets = append(targets, c.next)
		}
		for _, t := range targets {
			if _, ok := m.states[t]; t != "" && !ok {
				return nil, fmt.Errorf("state %q: transition to %q, which is not a state here", st.name, t)
			}
		}
	}
	return m, nil
}

func parseState(name string, raw json.RawMessage) (*state, error) {
	st := &state{name: name}
	var probe struct{ Type string }
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("state %q: %w", name, err)
	}
	fields, ok := fieldsByType[probe.Type]
	if !ok {
		return nil, fmt.Errorf("state %q: state type %q is not supported", name, probe.Type)
	}
	st.typ = probe.Type
	o, err := parseObject(raw, fmt.Sprintf("state %q", name), fields...)
	if err != nil {
		return nil, err
	}
	if err := st.parse(o); err != nil {
		return nil, fmt.Errorf("state %q: %w", name, err)
	}
	return st, nil
}

func (st *state) parse(o object) error {
	var err error
	if st.inputPath, err = o.optionalPath("InputPath"); err != nil {
		return err
	}
	if st.outputPath, err = o.optionalPath("OutputPath"); err != nil {
		return err
	}
	if st.resultPath, err = o.resultPath("ResultPath"); err != nil {
		return err
	}
	if st.parameters, err = o.template("Parameters"); err != nil {
		return err
	}
	if st.resultSelector, err = o.template("ResultSelector"); err != nil {
		return err
	}
	if _, err := o.get("Error", &st.errorName); err != nil {
		return err
	}
	if _, err := o.get("Cause", &st.cause); err != nil {
		return err
	}
	if raw, ok := o["Result"]; ok {
		if st.result, err = decodeJSON(raw); err != nil {
			return fmt.Errorf("Result: %w", err)
		}
		st.hasResult = true
	}
	if err := st.parseTransition(o); err != nil {
		return err
	}
	if err := st.parseErrorHandling(o); err != nil {
		return err
	}
	switch st.typ {
	case "Task":
		return st.parseTask(o)
	case "Map":
		return st.parseMap(o)
	}
	return nil
}

func (st *state) parseTransition(o object) error {
	var end bool
	if _, err := o.get("Next", &st.next); err != nil {
		return err
	}
	if _, err := o.get("End", &end); err != nil {
		return err
	}
	terminal := st.typ == "Succeed" || st.typ == "Fail"
	switch {
	case terminal:
	case end && st.next != "":
		return errors.New("has both Next and End")
	case !end && st.next == "":
		return errors.New("needs Next or End")
	}
	return nil
}

func (st *state) parseTask(o object) error {
	var resource string
	if _, err := o.get("Resource", &resource); err != nil {
		return err
	}
	switch resource {
	case resourceLambdaInvoke:
	case resourceLambdaWaitForToken:
		st.waitForToken = true
	default:
		return fmt.Errorf("resource %q is not supported", resource)
	}
	if st.parameters == nil {
		return errors.New("a Lambda task needs Parameters")
	}
	for _, f := range st.parameters.fields {
		if f.name != "FunctionName" && f.name != "Payload" {
			return fmt.Errorf("parameter %q is not supported", f.name)
		}
	}
	fn, _ := st.parameters.field("FunctionName")
	st.function, _ = fn.value.(string)
	if st.function == "" {
		return errors.New("Parameters.FunctionName must be a fixed, non-empty string")
	}
	if _, ok := st.parameters.field("Payload"); !ok {
		return errors.New("Parameters.Payload is missing")
	}
	var seconds *int64
	var secondsPath *string
	if _, err := o.get("TimeoutSeconds", &seconds); err != nil {
		return err
	}
	if _, err := o.get("TimeoutSecondsPath", &secondsPath); err != nil {
		return err
	}
	switch {
	case seconds != nil && secondsPath != nil:
		return errors.New("has both TimeoutSeconds and TimeoutSecondsPath")
	case seconds != nil && *seconds < 1:
		return errors.New("TimeoutSeconds must be a positive integer")
	case seconds != nil:
		st.timeoutSeconds = *seconds
	case secondsPath != nil:
		p, err := parsePath(*secondsPath)
		if err != nil {
			return fmt.Errorf("TimeoutSecondsPath: %w", err)
		}
		st.timeoutSecondsPath = &p
	}
	return nil
}

func (st *state) parseMap(o object) error {
	var err error
	st.itemsPath = rootPath
	var itemsPath string
	if ok, err := o.get("ItemsPath", &itemsPath); err != nil {
		return err
	} else if ok {
		if st.itemsPath, err = parsePath(itemsPath); err != nil {
			return fmt.Errorf("ItemsPath: %w", err)
		}
	}
	if st.itemSelector, err = o.template("ItemSelector"); err != nil {
		return err
	}
	raw, ok := o["ItemProcessor"]
	if !ok {
		return errors.New("needs ItemProcessor")
	}
	processor, err := parseObject(raw, "ItemProcessor", "Comment", "ProcessorConfig", "StartAt", "States")
	if err != nil {
		return err
	}
	if config, ok := processor["ProcessorConfig"]; ok {
		var c struct{ Mode string }
		if err := strictDecode(config, &c); err != nil {
			return fmt.Errorf("ProcessorConfig: %w", err)
		}
		if c.Mode != "" && c.Mode != "INLINE" {
			return fmt.Errorf("ProcessorConfig.Mode %q is not supported", c.Mode)
		}
	}
	st.processor, err = parseMachine(raw, "ItemProcessor", "Comment", "ProcessorConfig", "StartAt", "States")
	return err
}

func (st *state) parseErrorHandling(o object) error {
	var retry, catch []json.RawMessage
	if _, err := o.get("Retry", &retry); err != nil {
		return err
	}
	if _, err := o.get("Catch", &catch); err != nil {
		return err
	}
	for i, raw := range retry {
		ro, err := parseObject(raw, fmt.Sprintf("Retry[%d]", i), "Comment", "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate")
		if err != nil {
			return err
		}
		r := retrier{maxAttempts: 3, backoffRate: 2}
		interval := 1
		if _, err := ro.get("IntervalSeconds", &interval); err != nil {
			return err
		}
		if _, err := ro.get("MaxAttempts", &r.maxAttempts); err != nil {
			return err
		}
		if _, err := ro.get("BackoffRate", &r.backoffRate); err != nil {
			return err
		}
		if interval < 1 || r.maxAttempts < 0 || r.backoffRate < 1 {
			return fmt.Errorf("retrier %d: IntervalSeconds must be positive, MaxAttempts not negative, BackoffRate at least 1", i)
		}
		r.interval = time.Duration(interval) * time.Second
		if r.errorEquals, err = errorEquals(ro, i == len(retry)-1); err != nil {
			return fmt.Errorf("retrier %d: %w", i, err)
		}
		st.retriers = append(st.retriers, r)
	}
	for i, raw := range catch {
		co, err := parseObject(raw, fmt.Sprintf("Catch[%d]", i), "Comment", "ErrorEquals", "ResultPath", "Next")
		if err != nil {
			return err
		}
		var c catcher
		if _, err := co.get("Next", &c.next); err != nil || c.next == "" {
			return fmt.Errorf("catcher %d: Next is missing", i)
		}
		if c.resultPath, err = co.resultPath("ResultPath"); err != nil {
			return fmt.Errorf("catcher %d: %w", i, err)
		}
		if c.errorEquals, err = errorEquals(co, i == len(catch)-1); err != nil {
			return fmt.Errorf("catcher %d: %w", i, err)
		}
		st.catchers = append(st.catchers, c)
	}
	return nil
}

func errorEquals(o object, last bool) ([]string, error) {
	var names []string
	if _, err := o.get("ErrorEquals", &names); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("ErrorEquals must not be empty")
	}
	if slices.Contains(names, errAll) && (len(names) > 1 || !last) {
		return nil, errors.New("States.ALL must be alone in the last retrier or catcher")
	}
	return names, nil
}

// object is a JSON object's fields by exact (case-sensitive) name.
type object map[string]json.RawMessage

// parseObject decodes a JSON object and rejects any field not in allowed.
func parseObject(raw json.RawMessage, what string, allowed ...string) (object, error) {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return nil, fmt.Errorf("%s must be a JSON object", what)
	}
	var unsupported []string
	for name := range o {
		if !slices.Contains(allowed, name) {
			unsupported = append(unsupported, name)
		}
	}
	if len(unsupported) > 0 {
		slices.Sort(unsupported)
		return nil, fmt.Errorf("%s: field %q is not supported", what, unsupported[0])
	}
	return o, nil
}

// get decodes the named field into dst when present, and reports whether it was.
func (o object) get(name string, dst any) (bool, error) {
	raw, ok := o[name]
	if !ok {
		return false, nil
	}
	if err := strictDecode(raw, dst); err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

func (o object) isNull(name string) bool {
	return bytes.Equal(bytes.TrimSpace(o[name]), []byte("null"))
}

func (o object) optionalPath(name string) (optionalPath, error) {
	var text string
	switch {
	case o.isNull(name):
		return optionalPath{discard: true}, nil
	case o[name] == nil:
		return optionalPath{path: rootPath}, nil
	}
	if _, err := o.get(name, &text); err != nil {
		return optionalPath{}, err
	}
	p, err := parsePath(text)
	if err != nil {
		return optionalPath{}, fmt.Errorf("%s: %w", name, err)
	}
	return optionalPath{path: p}, nil
}

// resultPath reads a ResultPath, which names a place in the state's own data.
func (o object) resultPath(name string) (optionalPath, error) {
	p, err := o.optionalPath(name)
	if err != nil {
		return p, err
	}
	for _, s := range p.steps {
		if s.isIndex || p.context {
			return p, fmt.Errorf("%s %q: only $ and field names are supported", name, p.text)
		}
	}
	return p, nil
}

func (o object) template(name string) (*template, error) {
	raw, ok := o[name]
	if !ok {
		return nil, nil
	}
	t, err := compileTemplate(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func strictDecode(raw json.RawMessage, dst any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(dst)
}
