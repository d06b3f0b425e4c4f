package stack_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/servicecontacts/servicecontacts/infra/local/asl"
	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
	"github.com/servicecontacts/servicecontacts/shared/store/embedded"
	"github.com/servicecontacts/servicecontacts/shared/store/storetest"
	"github.com/servicecontacts/servicecontacts/shared/workflow"
)

// The fault matrix: a crash or an injected fault at every step boundary of a request's life,
// each under every outcome, on both backends. Every case must end with the request terminal,
// its role released, and each email sent exactly once: whatever failed, the reconciler (a
// sweep every 100 ms here, as the EventBridge schedule every minute on AWS) and the
// workflow's retries finish the job.
func TestFaultMatrix(t *testing.T) {
	var tried, open, lost, duplicated atomic.Int64
	t.Cleanup(func() {
		t.Logf("fault matrix: %d cases tried, %d requests left open, %d emails lost, %d duplicated",
			tried.Load(), open.Load(), lost.Load(), duplicated.Load())
	})
	for _, b := range []string{"embedded", "DynamoDBLocal"} {
		for _, f := range faults {
			for _, o := range outcomes {
				t.Run(b+"/"+f.name+"/"+o.name, func(t *testing.T) {
					t.Parallel()
					m := newMatrixCase(t, b, f, o)
					tried.Add(1)
					res := m.run(f, o)
					open.Add(int64(res.open))
					lost.Add(int64(res.lost))
					duplicated.Add(int64(res.duplicated))
				})
			}
		}
	}
}

// A fault is what goes wrong, and when. arm runs before the request is made; interfere
// runs once it exists (before the outcome, or between the confirmations and the apply).
type fault struct {
	name string
	// crash: the request function dies after its write, before it starts the workflow.
	crash bool
	// startFails: StartExecution answers an error.
	startFails bool
	// lose names the Step Functions calls lost until the outcome is done
	// ("SendTaskSuccess", "SendTaskFailure").
	lose string
	// step and operation: the DynamoDB operation that fails, throttled or refused, in the
	// named step.
	step, operation string
	dbFault         storetest.Fault
	// timeout names the step whose first call does its work, then times out (Lambda.Unknown).
	timeout bool
	// interfere changes the service under the request: "delete" or "rehold".
	interfere string
}

var faults = []fault{
	{name: "none"},
	{name: "crash after the write before StartExecution", crash: true},
	{name: "StartExecution fails", startFails: true},
	{name: "SendTaskSuccess lost", lose: "SendTaskSuccess"},
	{name: "SendTaskFailure lost", lose: "SendTaskFailure"},
	{name: "await throttled", step: "await", operation: "GetItem", dbFault: storetest.Throttled},
	{name: "await connections refused", step: "await", operation: "GetItem", dbFault: storetest.Refused},
	{name: "apply transaction throttled", step: "apply", operation: "TransactWriteItems", dbFault: storetest.Throttled},
	{name: "finish throttled", step: "finish", operation: "GetItem", dbFault: storetest.Throttled},
	{name: "a step times out after its work", timeout: true},
	{name: "service deleted", interfere: "delete"},
	{name: "role changed", interfere: "rehold"},
}

type outcome struct {
	name string
	// want is the state the request must end in, by fault; "" means any terminal state.
	want func(f fault) string
}

var outcomes = []outcome{
	{"accepted", func(f fault) string {
		switch {
		case f.crash, f.startFails, f.interfere != "":
			return "failed"
		}
		return "done"
	}},
	{"refused", func(f fault) string { return unlessNeverStarted(f, "refused") }},
	{"cancelled", func(f fault) string {
		if f.crash {
			return "" // cancelled by the requester, or failed first by the reconciler
		}
		return unlessNeverStarted(f, "cancelled")
	}},
	{"expired", func(f fault) string { return unlessNeverStarted(f, "expired") }},
}

func unlessNeverStarted(f fault, state string) string {
	if f.crash || f.startFails {
		return "failed"
	}
	return state
}

// matrixCase is one case's running stack and what it injects.
type matrixCase struct {
	*env
	db      store.API
	tables  store.Tables
	dbf     *storetest.Faults
	sfn     *lossySFN
	backend string
	// hold keeps the apply step waiting while the service changes under an accepted request.
	hold chan struct{}
	// fired counts the faults injected, so that a case whose fault never fired fails.
	fired atomic.Int64
}

// matrixExpiry is how long a request of the "expired" outcome waits: short, but longer than
// the slowest confirmation under -race.
const matrixExpiry = 3 * time.Second

func newMatrixCase(t *testing.T, backend string, f fault, o outcome) *matrixCase {
	m := &matrixCase{dbf: storetest.NewFaults(), backend: backend, hold: make(chan struct{})}
	prefix := make([]byte, 6)
	_, _ = rand.Read(prefix)
	expiry := time.Minute // every outcome but expiry has a minute to come about
	if o.name == "expired" {
		expiry = matrixExpiry
	}
	opts := stack.Options{
		Seed: englishSeed(), Expiry: expiry,
		SweepEvery: 100 * time.Millisecond, StartGrace: time.Second, ApplyGrace: time.Second,
		OwnerWindow: 3 * time.Second, TablePrefix: "fm-" + hex.EncodeToString(prefix) + "-",
		WrapStep: m.wrapStep(f),
		WrapWorkflow: func(api workflow.API) workflow.API {
			m.sfn = &lossySFN{API: api, crash: f.crash, startFails: f.startFails, lose: f.lose, fired: &m.fired}
			if o.name == "expired" && f.lose == "SendTaskFailure" {
				// The reconciler must reach the expired request before the task's own
				// timeout does, or no SendTaskFailure is sent to be lost: on a loaded
				// machine the two raced.
				m.sfn.timeoutSlack = 5
			}
			return m.sfn
		},
	}
	if backend == "embedded" {
		m.db = m.dbf.Wrap(embedded.New())
	} else {
		m.db = storetest.DynamoDBLocal(t, m.dbf.Install)
	}
	opts.DynamoDB = m.db
	m.tables = store.Tables{Contacts: opts.TablePrefix + "contacts", Requests: opts.TablePrefix + "requests"}
	m.env = start(t, opts)
	return m
}

// failuresPerStepCall is how many calls of an operation to fail so that the step sees one
// error: the SDK client of DynamoDB Local tries each call three times itself.
func (m *matrixCase) failuresPerStepCall() int {
	if m.backend == "embedded" {
		return 1
	}
	return 4
}

// wrapStep injects the step faults: DynamoDB failing inside one step, a step that times out
// after its work, the apply step held while the service changes under it.
func (m *matrixCase) wrapStep(f fault) func(string, asl.Function) asl.Function {
	return func(name string, fn asl.Function) asl.Function {
		var arm, timeOut sync.Once
		armed := f.step == name
		return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
			if name == "apply" && f.interfere != "" {
				<-m.hold
			}
			if armed {
				arm.Do(func() {
					m.dbf.Fail(f.operation, f.dbFault, m.failuresPerStepCall())
					m.fired.Add(1)
				})
				ctx = m.dbf.Scope(ctx)
			}
			out, err := fn(ctx, payload)
			timedOut := false
			if f.timeout && err == nil {
				timeOut.Do(func() { timedOut = true })
			}
			if timedOut {
				m.fired.Add(1)
				// Lambda reports a timeout or a crash after the work as Lambda.Unknown.
				return nil, messages.InvokeResponse_Error{Type: "Lambda.Unknown", Message: "Task timed out after 15.00 seconds"}
			}
			return out, err
		}
	}
}

// lossySFN is Step Functions with the calls that fail in this case failing.
type lossySFN struct {
	workflow.API
	crash, startFails bool
	lose              string
	healed            atomic.Bool
	fired             *atomic.Int64
	// timeoutSlack, in seconds, lengthens the executions' wait for the parties beyond the
	// request's expiry.
	timeoutSlack int64
}

var errSFNUnreachable = errors.New("dial tcp: connect: connection refused")

func (s *lossySFN) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	switch {
	case s.crash:
		s.fired.Add(1)
		panic("the request function died before it started the workflow")
	case s.startFails:
		s.fired.Add(1)
		return nil, errSFNUnreachable
	}
	if s.timeoutSlack > 0 {
		var input map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(in.Input)), &input); err != nil {
			return nil, err
		}
		input["timeoutSeconds"] = input["timeoutSeconds"].(float64) + float64(s.timeoutSlack)
		b, _ := json.Marshal(input)
		changed := *in
		changed.Input = aws.String(string(b))
		in = &changed
	}
	return s.API.StartExecution(ctx, in, opts...)
}

func (s *lossySFN) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if s.lose == "SendTaskSuccess" && !s.healed.Load() {
		s.fired.Add(1)
		return nil, errSFNUnreachable
	}
	return s.API.SendTaskSuccess(ctx, in, opts...)
}

func (s *lossySFN) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if s.lose == "SendTaskFailure" && !s.healed.Load() {
		s.fired.Add(1)
		return nil, errSFNUnreachable
	}
	return s.API.SendTaskFailure(ctx, in, opts...)
}

// englishSeed is the end-to-end seed with everyone reading English, so that the emails'
// subjects tell their kind.
func englishSeed() store.Seed {
	s := seed()
	for i := range s.Accounts {
		s.Accounts[i].Language = "en"
	}
	return s
}

type matrixResult struct{ open, lost, duplicated int }

// run makes the request (admin asks for newbie as example.com's tech), injects the fault,
// brings the outcome about, and checks the invariants.
func (m *matrixCase) run(f fault, o outcome) matrixResult {
	t := m.t
	t.Helper()
	id := m.create(f)
	if o.name != "accepted" {
		close(m.hold)
	}

	if f.interfere != "" && o.name != "accepted" {
		m.interfere(f)
	}

	switch o.name {
	case "accepted":
		if t1, t2, ok := m.tokens(id); ok {
			m.accept(admin, id, t1)
			m.accept(newbie, id, t2)
		}
		if f.interfere != "" {
			// The parties accepted; the service changes before the apply step runs.
			m.waitState(admin, id, "applying")
			m.interfere(f)
			close(m.hold)
		}
	case "refused":
		if _, t2, ok := m.tokens(id); ok {
			m.refuse(newbie, id, t2)
		}
	case "cancelled":
		m.call("POST", "/me/contact-changes/"+id+"/cancel", admin, nil)
	case "expired":
		// Nobody answers; Step Functions stays unreachable until the request has expired.
		m.waitEnded(admin, id)
	}
	if f.lose != "" && exercised(f, o) {
		// The call to lose may not have been made yet: the reconciler stores an expiry
		// before it stops the tasks, and a party's task registered after the answer (or
		// the cancellation) is answered by the await step. Step Functions stays
		// unreachable until one such call was tried, and lost.
		m.waitFired(10 * time.Second)
	}
	m.sfn.healed.Store(true)

	end := m.waitTerminalStored(id, 30*time.Second)
	var res matrixResult
	if !end.State.Terminal() {
		res.open++
		t.Errorf("request %s is still %s; history %v", id, end.State, end.History)
		return res
	}
	if want := o.want(f); want != "" && string(end.State) != want {
		t.Errorf("request ended %s, want %s; history %v", end.State, want, end.History)
	}
	if f.interfere == "" {
		svc, err := m.stack.Store.Service(context.Background(), "example.com")
		if err != nil {
			t.Fatal(err)
		}
		if svc.Open[contact.Tech] != "" {
			res.open++
			t.Errorf("the tech role is still locked by %s", svc.Open[contact.Tech])
		}
		wantTech := tech
		if end.State == contact.Done {
			wantTech = newbie
		}
		if svc.Contacts[contact.Tech] != wantTech {
			t.Errorf("tech is %s, want %s", svc.Contacts[contact.Tech], wantTech)
		}
	}
	if f.interfere == "rehold" {
		if got := m.services(admin)["example.com"]["tech"]; got != stranger {
			t.Errorf("the operator's choice was undone: tech is %s, want %s", got, stranger)
		}
	}
	lost, dup := m.checkEmails(id, end, f)
	res.lost, res.duplicated = lost, dup
	if !m.executionEnds(id, 30*time.Second) {
		res.open++
		t.Errorf("the workflow of request %s is still running", id)
	}
	if exercised(f, o) && m.fired.Load() == 0 {
		t.Errorf("the fault %q never fired under %s", f.name, o.name)
	}
	return res
}

// waitFired waits until a fault has been injected, or within has passed; the case then
// fails, saying that the fault never fired.
func (m *matrixCase) waitFired(within time.Duration) {
	deadline := time.Now().Add(within)
	for m.fired.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// executionEnds waits until the request's workflow, if it ever started, has ended: the
// reconciler answers the callbacks that were lost.
func (m *matrixCase) executionEnds(id string, within time.Duration) bool {
	x, ok := m.stack.Executor.Execution(id)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_, err := x.Wait(ctx)
	return err == nil
}

// create asks for the change and returns its id, whatever the request function answered.
func (m *matrixCase) create(f fault) string {
	t := m.t
	r := m.call("POST", "/services/example.com/contact-changes", admin, map[string]string{"tech": newbie})
	switch {
	case f.crash:
		if r.status != http.StatusInternalServerError && r.status != http.StatusBadGateway {
			t.Fatalf("the crashed request function answered %d, want API Gateway's 5xx: %s", r.status, r.body)
		}
	case f.startFails:
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("create with StartExecution failing: status %d, want 503: %s", r.status, r.body)
		}
	default:
		if r.status != http.StatusCreated {
			t.Fatalf("create: status %d: %s", r.status, r.body)
		}
	}
	// The caller may not have been told the id: find the request as the requester sees it.
	list := m.call("GET", "/me/contact-changes", admin, nil)
	if list.status != http.StatusOK {
		t.Fatalf("list requests: status %d: %s", list.status, list.body)
	}
	page := decode[struct{ Items []change }](t, list.body)
	if len(page.Items) != 1 {
		t.Fatalf("the requester sees %d requests, want 1", len(page.Items))
	}
	return page.Items[0].ID
}

// tokens returns both parties' tokens, if they were emailed.
func (m *matrixCase) tokens(id string) (adminToken, newbieToken string, ok bool) {
	if len(m.mailsTo("admin@example.com", id)) == 0 {
		return "", "", false
	}
	_, adminToken = m.link("admin@example.com", id)
	_, newbieToken = m.link("newbie@example.com", id)
	return adminToken, newbieToken, true
}

// exercised reports whether fault f can fire under outcome o: a lost SendTaskSuccess needs an
// acceptance, a lost SendTaskFailure a refusal, cancellation or expiry, a fault in the apply
// step an accepted request, one in the finish step a request that did not apply.
func exercised(f fault, o outcome) bool {
	switch {
	case f.lose == "SendTaskSuccess", f.step == "apply":
		return o.name == "accepted"
	case f.lose == "SendTaskFailure", f.step == "finish":
		return o.name != "accepted"
	}
	return f.name != "none"
}

func (m *matrixCase) interfere(f fault) {
	m.fired.Add(1)
	if f.interfere == "delete" {
		m.deleteService("example.com")
	} else {
		m.rehold()
	}
}

func (m *matrixCase) rehold() {
	if err := m.stack.Store.SetHolder(context.Background(), "example.com", contact.Tech, stranger); err != nil {
		m.t.Fatal(err)
	}
}

// deleteService removes a service's items, as its deletion by the provider would.
func (m *matrixCase) deleteService(id string) {
	ctx := context.Background()
	out, err := m.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(m.tables.Contacts),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "SERVICE#" + id}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		m.t.Fatal(err)
	}
	var deletes []types.WriteRequest
	for _, item := range out.Items {
		deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]},
		}})
	}
	out2, err := m.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{m.tables.Contacts: deletes}})
	if err != nil || len(out2.UnprocessedItems) > 0 {
		m.t.Fatalf("delete service %s: %v, unprocessed %v", id, err, out2)
	}
}

// waitTerminalStored waits until the request is terminal and owes nothing: its outbox is
// empty. It returns the request as stored.
func (m *matrixCase) waitTerminalStored(id string, within time.Duration) contact.Change {
	deadline := time.Now().Add(within)
	for {
		c, err := m.stack.Store.Change(context.Background(), id)
		if err != nil {
			m.t.Fatal(err)
		}
		if c.State.Terminal() && len(c.Outbox) == 0 {
			return c
		}
		if time.Now().After(deadline) {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var outcomeSubject = regexp.MustCompile(`^(Done|Refused|Cancelled|Expired|Failed):|^You are no longer`)

// checkEmails checks that each email about the request went out once: one token email per
// party (none when the workflow never started), one outcome email per account involved
// (the requester alone when the parties never heard of the request), no message twice.
func (m *matrixCase) checkEmails(id string, end contact.Change, f fault) (lost, duplicated int) {
	t := m.t
	addresses := map[string]string{admin: "admin@example.com", newbie: "newbie@example.com", tech: "tech@example.com"}
	neverStarted := f.crash || f.startFails
	for nic, address := range addresses {
		mails := m.mailsTo(address, id)
		seen := map[string]int{}
		var outcomes, tokens int
		for _, msg := range mails {
			seen[msg.Subject]++
			if outcomeSubject.MatchString(msg.Subject) {
				outcomes++
			}
			if strings.HasPrefix(msg.Subject, "Please confirm:") {
				tokens++
			}
		}
		for subject, n := range seen {
			if n > 1 {
				duplicated += n - 1
				t.Errorf("%s got %q %d times", address, subject, n)
			}
		}
		isParty := slices.ContainsFunc(end.Parties, func(p contact.Party) bool { return p.NIC == nic })
		if wantTokens := map[bool]int{true: 1}[isParty && !neverStarted]; tokens != wantTokens {
			t.Errorf("%s got %d token emails, want %d: %v", address, tokens, wantTokens, subjects(mails))
			lost += max(wantTokens-tokens, 0)
		}
		wantOutcome := 1
		switch {
		case f.startFails:
			wantOutcome = 0 // the requester was told at once, by the 503
		case neverStarted && end.State == contact.Failed && nic != admin:
			wantOutcome = 0 // never asked, never told
		}
		if outcomes != wantOutcome {
			t.Errorf("%s got %d outcome emails, want %d: %v", address, outcomes, wantOutcome, subjects(mails))
			lost += max(wantOutcome-outcomes, 0)
		}
	}
	return lost, duplicated
}

func subjects(mails []mailMessage) []string {
	var out []string
	for _, m := range mails {
		out = append(out, fmt.Sprintf("%s (%s)", m.Subject, m.SentAt))
	}
	return out
}
