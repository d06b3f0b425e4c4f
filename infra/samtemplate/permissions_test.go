package samtemplate_test

// What each function may do, and the comparisons that hold the template's policies to it.

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/servicecontacts/servicecontacts/infra/samtemplate"
	"github.com/servicecontacts/servicecontacts/shared/config"
)

// The DynamoDB resources a statement may name.
const (
	contacts        = "contacts"
	contactsIndexes = "contacts/index/*"
	requests        = "requests"
	requestsIndexes = "requests/index/*"
)

// dynamoDBAccess is, for each function, the DynamoDB actions its code reaches through
// shared/store, by table. A transaction needs the action of each of its items (Put: PutItem,
// Update: UpdateItem, Delete: DeleteItem, ConditionCheck: ConditionCheckItem). Nothing scans.
//
//	Account GetItem contacts              Service Query contacts
//	ServicesOf Query ByHolder, BatchGetItem contacts
//	CreateChanges Put requests, Update contacts (the role's lock)
//	Change GetItem requests               ChangesOf Query ByInvolved, BatchGetItem requests
//	SaveChange Put requests (+ Update contacts when it ends)   SaveBookkeeping PutItem requests
//	DueChanges, DueRecords Query ByDue    ApplyChange Put requests, Update + ConditionCheck contacts
//	PutAccount, PutService Put contacts, Put requests (the record)
//	DeleteService Delete contacts, Put requests (the record)    MarkBounced UpdateItem contacts
//	Count UpdateItem requests (a transaction of Updates for several counters)
//	Counted GetItem requests
//	CreateBatch, SaveBatch PutItem requests   Batch GetItem requests   DueBatches Query ByDue
//	Changes BatchGetItem requests (a batch's requests, which the end of any of them reads)
var dynamoDBAccess = map[string]map[string][]string{
	"list": { // services and requests of the caller, one request
		contacts: {"BatchGetItem", "GetItem"}, contactsIndexes: {"Query"},
		requests: {"BatchGetItem", "GetItem"}, requestsIndexes: {"Query"},
	},
	"request": { // reads the service and accounts, counts, creates, abandons
		contacts: {"GetItem", "Query", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem", "UpdateItem"},
	},
	"confirm": { // decides and cancels: a request that ends releases its lock; counts wrong tokens
		contacts: {"GetItem", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem", "UpdateItem"},
	},
	"resend": { // counts the emails it sends
		contacts: {"GetItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem", "UpdateItem"},
	},
	"operator": { // accounts and services, support's search, cancel and resend
		contacts: {"DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem", "UpdateItem"}, requestsIndexes: {"Query"},
	},
	"await": { // stores a task token
		requests: {"GetItem", "PutItem"},
	},
	"apply": {
		contacts: {"ConditionCheckItem", "GetItem", "Query", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem"},
	},
	"finish": { // ends a request, or applies one whose last acceptance raced its end
		contacts: {"ConditionCheckItem", "GetItem", "Query", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem"},
	},
	"reconcile": { // sweeps ByDue, ends, applies, sends what is owed, tells batches
		contacts: {"ConditionCheckItem", "GetItem", "Query", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem"}, requestsIndexes: {"Query"},
	},
	"bounce": { // marks the account, notes it in its open requests
		contacts: {"GetItem", "UpdateItem"},
		requests: {"BatchGetItem", "GetItem", "PutItem"}, requestsIndexes: {"Query"},
	},
}

// stepFunctionsAccess is what each function does with the state machine; answering a
// party's task (SendTaskSuccess, SendTaskFailure) is granted by CallbackPolicy.
var stepFunctionsAccess = map[string][]string{
	"request":   {"states:StartExecution"},
	"reconcile": {"states:DescribeExecution"},
}

// answersTasks are the functions that answer a party's callback task.
var answersTasks = []string{"apply", "await", "confirm", "finish", "operator", "reconcile"}

// statement is one IAM statement, its actions sorted.
type statement struct {
	Sid       string
	Actions   []string
	Resources []any
	Condition any
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func toStatement(raw any) statement {
	m, _ := raw.(map[string]any)
	var st statement
	st.Sid, _ = m["Sid"].(string)
	for _, a := range asList(m["Action"]) {
		st.Actions = append(st.Actions, fmt.Sprint(a))
	}
	sort.Strings(st.Actions)
	st.Resources = asList(m["Resource"])
	st.Condition = m["Condition"]
	if m["Effect"] != "Allow" {
		st.Sid += fmt.Sprintf(" (Effect %v)", m["Effect"])
	}
	return st
}

// functionStatements are a function's inline statements; any SAM policy template is a
// problem, as they grant more than the code uses (DynamoDBCrudPolicy includes Scan).
func functionStatements(t *samtemplate.Template, id string) ([]statement, []string) {
	var out []statement
	var problems []string
	for _, p := range asList(t.Resources[id].Properties["Policies"]) {
		m, ok := p.(map[string]any)
		if !ok || len(m) != 1 || m["Statement"] == nil {
			problems = append(problems, fmt.Sprintf("%s: policy %v is not an inline Statement list", id, p))
			continue
		}
		for _, s := range asList(m["Statement"]) {
			out = append(out, toStatement(s))
		}
	}
	return out, problems
}

// dynamoResource names the table (or its indexes) a statement's resource is.
func dynamoResource(r any) string {
	switch {
	case cmp.Equal(r, map[string]any{"Fn::GetAtt": []any{"ContactsTable", "Arn"}}):
		return contacts
	case cmp.Equal(r, map[string]any{"Fn::Sub": "${ContactsTable.Arn}/index/*"}):
		return contactsIndexes
	case cmp.Equal(r, map[string]any{"Fn::GetAtt": []any{"RequestsTable", "Arn"}}):
		return requests
	case cmp.Equal(r, map[string]any{"Fn::Sub": "${RequestsTable.Arn}/index/*"}):
		return requestsIndexes
	}
	return fmt.Sprint(r)
}

var (
	sendEmailResources = []any{
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"},
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${MailConfigurationSet}"},
	}
	sendEmailCondition = map[string]any{"StringEquals": map[string]any{"ses:FromAddress": map[string]any{"Ref": "MailFrom"}}}
	stateMachineRef    = map[string]any{"Ref": "ContactChangeStateMachine"}
	executionsARN      = map[string]any{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${ContactChangeStateMachine.Name}:*"}
)

// permissionProblems compares each function's statements with what it needs: the DynamoDB
// actions of dynamoDBAccess on their tables, SES's SendEmail from MailFrom only for those
// that mail, PutEvents on the stack's bus for those that publish, the state machine
// actions of stepFunctionsAccess, and nothing else.
func permissionProblems(t *samtemplate.Template, folders map[string]string) []string {
	var problems []string
	for _, id := range t.OfType("AWS::Serverless::Function") {
		folder := folders[id]
		required := config.Required[folder]
		statements, bad := functionStatements(t, id)
		problems = append(problems, bad...)
		granted := map[string][]string{}
		var mail, publish bool
		var states []string
		for _, st := range statements {
			for _, a := range st.Actions {
				switch {
				case strings.HasPrefix(a, "dynamodb:"):
					if st.Condition != nil {
						problems = append(problems, fmt.Sprintf("%s: %s has a condition", id, st.Sid))
					}
					for _, r := range st.Resources {
						granted[dynamoResource(r)] = append(granted[dynamoResource(r)], strings.TrimPrefix(a, "dynamodb:"))
					}
				case a == "ses:SendEmail":
					mail = true
					if !cmp.Equal(st.Resources, sendEmailResources) || !cmp.Equal(st.Condition, sendEmailCondition) {
						problems = append(problems, fmt.Sprintf("%s: SendEmail on %v if %v, want %v if %v", id, st.Resources, st.Condition, sendEmailResources, sendEmailCondition))
					}
				case a == "events:PutEvents":
					publish = true
					if !cmp.Equal(st.Resources, []any{map[string]any{"Fn::GetAtt": []any{"EventBus", "Arn"}}}) {
						problems = append(problems, fmt.Sprintf("%s: PutEvents on %v, want the EventBus only", id, st.Resources))
					}
				case a == "states:StartExecution" && cmp.Equal(st.Resources, []any{stateMachineRef}),
					a == "states:DescribeExecution" && cmp.Equal(st.Resources, []any{executionsARN}):
					states = append(states, a)
				default:
					problems = append(problems, fmt.Sprintf("%s: %s grants %s on %v, which no function needs", id, st.Sid, a, st.Resources))
				}
			}
		}
		for _, actions := range granted {
			sort.Strings(actions)
		}
		if d := cmp.Diff(dynamoDBAccess[folder], granted, cmpopts.EquateEmpty()); d != "" {
			problems = append(problems, fmt.Sprintf("%s: DynamoDB actions (-needed +granted):\n%s", id, d))
		}
		if want := slices.Contains(required, config.MailFrom); mail != want {
			problems = append(problems, fmt.Sprintf("%s: ses:SendEmail granted %v, want %v (it reads %s: %v)", id, mail, want, config.MailFrom, want))
		}
		if want := slices.Contains(required, config.EventBusName); publish != want {
			problems = append(problems, fmt.Sprintf("%s: events:PutEvents granted %v, want %v (it reads %s: %v)", id, publish, want, config.EventBusName, want))
		}
		sort.Strings(states)
		if d := cmp.Diff(stepFunctionsAccess[folder], states, cmpopts.EquateEmpty()); d != "" {
			problems = append(problems, fmt.Sprintf("%s: Step Functions actions (-needed +granted):\n%s", id, d))
		}
	}
	sort.Strings(problems)
	return problems
}

// callbackProblems checks CallbackPolicy: SendTaskSuccess and SendTaskFailure on the state
// machine, for the roles of answersTasks exactly.
func callbackProblems(t *samtemplate.Template, folders map[string]string) []string {
	r, ok := t.Resources["CallbackPolicy"]
	if !ok || r.Type != "AWS::IAM::Policy" {
		return []string{"no AWS::IAM::Policy CallbackPolicy"}
	}
	var problems []string
	doc, _ := r.Properties["PolicyDocument"].(map[string]any)
	var got []statement
	for _, s := range asList(doc["Statement"]) {
		got = append(got, toStatement(s))
	}
	want := []statement{{Sid: "AnswerTasks", Actions: []string{"states:SendTaskFailure", "states:SendTaskSuccess"}, Resources: []any{stateMachineRef}}}
	if d := cmp.Diff(want, got); d != "" {
		problems = append(problems, fmt.Sprintf("CallbackPolicy statements (-want +got):\n%s", d))
	}
	byRole := map[string]string{}
	for id, folder := range folders {
		byRole[id+"Role"] = folder
	}
	var roles []string
	for _, role := range asList(r.Properties["Roles"]) {
		ref, _ := role.(map[string]any)["Ref"].(string)
		folder, ok := byRole[ref]
		if !ok {
			folder = "?" + ref
		}
		roles = append(roles, folder)
	}
	sort.Strings(roles)
	if d := cmp.Diff(answersTasks, roles); d != "" {
		problems = append(problems, fmt.Sprintf("CallbackPolicy roles (-want +got):\n%s", d))
	}
	return problems
}

// scanProblems: nothing in the template may scan a table, and no function but the
// operator's may delete an item.
func scanProblems(t *samtemplate.Template, folders map[string]string) []string {
	var problems []string
	walkStrings(t.Doc, func(s string) {
		if strings.EqualFold(s, "dynamodb:Scan") || strings.HasPrefix(s, "dynamodb:*") || strings.HasPrefix(s, "DynamoDB") && strings.HasSuffix(s, "Policy") {
			problems = append(problems, fmt.Sprintf("the template grants %s", s))
		}
	})
	for _, id := range t.OfType("AWS::Serverless::Function") {
		for _, p := range asList(t.Resources[id].Properties["Policies"]) {
			if m, ok := p.(map[string]any); ok {
				for k := range m {
					if strings.HasPrefix(k, "DynamoDB") {
						problems = append(problems, fmt.Sprintf("%s uses the policy template %s (it includes Scan)", id, k))
					}
				}
			}
		}
		statements, _ := functionStatements(t, id)
		for _, st := range statements {
			if slices.Contains(st.Actions, "dynamodb:DeleteItem") && folders[id] != "operator" {
				problems = append(problems, fmt.Sprintf("%s may delete items; only the operator's function deletes (a service)", id))
			}
		}
	}
	return problems
}

// walkStrings calls f with every string of v, map keys included.
func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			f(k)
			walkStrings(v[k], f)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, f)
		}
	}
}

// partitionProblems: every ARN the template writes names its partition with
// ${AWS::Partition}, the state machine's substitutions included.
func partitionProblems(t *samtemplate.Template) []string {
	var problems []string
	walkStrings(t.Doc, func(s string) {
		for _, part := range []string{"arn:aws:", "arn:aws-cn:", "arn:aws-us-gov:"} {
			if strings.Contains(s, part) {
				problems = append(problems, fmt.Sprintf("%q names a fixed partition", s))
			}
		}
	})
	subs, _ := t.Resources["ContactChangeStateMachine"].Properties["DefinitionSubstitutions"].(map[string]any)
	if !cmp.Equal(subs["Partition"], map[string]any{"Ref": "AWS::Partition"}) {
		problems = append(problems, fmt.Sprintf("DefinitionSubstitutions.Partition is %v, want !Ref AWS::Partition", subs["Partition"]))
	}
	return problems
}
