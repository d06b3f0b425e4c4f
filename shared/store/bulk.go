package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// BulkProgress is how far a bulk load has gone: lines read, and what became of them.
type BulkProgress struct {
	Lines     int // lines read, blank ones included
	Loaded    int
	Unchanged int
	Rejected  int
}

// BulkSummary is what a bulk load did.
type BulkSummary struct {
	Lines     int // lines read, blank ones included
	Loaded    int // accounts and services written: new, or changed
	Unchanged int // accounts and services identical to what the table held, not written
	Rejected  []Rejection
}

// Rejection is a line the bulk load refused, and why.
type Rejection struct {
	Line   int
	Reason string
}

const (
	// maxBulkLine is the longest line the bulk load reads; a longer one is rejected.
	maxBulkLine = 64 << 10
	// bulkWriters is how many batch writes (or transactions) a bulk load has in flight.
	bulkWriters = 8
	// bulkChunkItems is how many items a bulk load reads, classifies and writes at a time.
	bulkChunkItems = bulkWriters * maxBatchWrite
)

// BulkLoad loads accounts and services from JSON Lines, one per line:
//
//	{"account": {"nic": "xx11111-ovh", "email": "a@example.com", "language": "en", "goodStanding": true}}
//	{"service": {"id": "example.com", "type": "domain", "admin": "xx11111-ovh", "tech": "xx11111-ovh", "billing": "xx11111-ovh"}}
//
// Blank lines are skipped. A line is rejected, and the load goes on, when it is not one such
// object (unknown fields included), when a NIC handle is malformed, a language is not en, fr
// or it (empty means en), an email is not a bare address (empty means none), goodStanding is
// missing, a service id or type is malformed, a holder is neither an account of the table nor
// one of an earlier line, or a role whose holder would change is locked by an open request:
// the load never changes a holder under an open request.
//
// Each account or service is compared with what the table holds: identical ones are counted
// unchanged and not written. New services are written with batch writes; changes to existing
// services in one transaction per service, on condition that their role items are still as
// read. Attributes the load does not set (a role's lock) are kept, except that an account
// whose email changes starts afresh. progress, when not nil, is called after every chunk of
// lines. The summary is what was done until the load ended, also when it returns an error.
func (s *Store) BulkLoad(ctx context.Context, r io.Reader, progress func(BulkProgress)) (BulkSummary, error) {
	l := &bulkLoader{s: s, known: map[string]bool{}, progress: progress}
	err := l.run(ctx, r)
	slices.SortStableFunc(l.sum.Rejected, func(a, b Rejection) int { return a.Line - b.Line })
	return l.sum, err
}

type bulkLoader struct {
	s        *Store
	known    map[string]bool // accounts of the table or of accepted lines
	progress func(BulkProgress)

	mu  sync.Mutex // guards sum while a chunk's writes are in flight
	sum BulkSummary
}

// bulkRecord is a line that passed the checks that need no reading.
type bulkRecord struct {
	line    int
	account *accountItem
	service *SeedService // holders normalized
}

func (rec bulkRecord) key() itemKey {
	if rec.account != nil {
		return itemKey{rec.account.PK, rec.account.SK}
	}
	return itemKey{servicePK(rec.service.ID), serviceSK}
}

// size is how many items the record may write.
func (rec bulkRecord) size() int {
	if rec.account != nil {
		return 1
	}
	return 1 + len(contact.Roles)
}

type itemKey struct{ pk, sk string }

func (k itemKey) attrs() map[string]types.AttributeValue { return key(k.pk, k.sk) }

func (l *bulkLoader) run(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, maxBulkLine)
	var chunk []bulkRecord
	inChunk := map[itemKey]bool{}
	items := 0
	for {
		line, tooLong, readErr := readBulkLine(br)
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return fmt.Errorf("read line %d: %w", l.sum.Lines+1, readErr)
		}
		if len(line) > 0 || tooLong || !errors.Is(readErr, io.EOF) {
			l.sum.Lines++
		}
		if tooLong {
			l.reject(l.sum.Lines, fmt.Sprintf("longer than %d bytes", maxBulkLine))
		} else if len(bytes.TrimSpace(line)) > 0 {
			rec, reason := parseBulkLine(line)
			rec.line = l.sum.Lines
			switch {
			case reason != "":
				l.reject(rec.line, reason)
			default:
				// A chunk writes each item once: a line on an item already in the chunk,
				// or one that would overfill it, starts the next chunk.
				if len(chunk) > 0 && (inChunk[rec.key()] || items+rec.size() > bulkChunkItems) {
					if err := l.flush(ctx, chunk); err != nil {
						return err
					}
					chunk, items = chunk[:0], 0
					clear(inChunk)
				}
				chunk = append(chunk, rec)
				inChunk[rec.key()] = true
				items += rec.size()
			}
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
		if l.sum.Lines%1000 == 0 {
			l.report() // also while only rejections come
		}
	}
	if len(chunk) == 0 {
		l.report()
		return nil
	}
	return l.flush(ctx, chunk)
}

// readBulkLine reads one line without its end. A line longer than the reader's buffer is
// consumed and reported too long.
func readBulkLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			tooLong = true
			continue
		}
		if tooLong {
			return nil, true, err
		}
		return bytes.TrimRight(frag, "\r\n"), false, err
	}
}

func (l *bulkLoader) reject(line int, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sum.Rejected = append(l.sum.Rejected, Rejection{Line: line, Reason: reason})
}

func (l *bulkLoader) report() {
	if l.progress == nil {
		return
	}
	l.mu.Lock()
	p := BulkProgress{Lines: l.sum.Lines, Loaded: l.sum.Loaded, Unchanged: l.sum.Unchanged, Rejected: len(l.sum.Rejected)}
	l.mu.Unlock()
	l.progress(p)
}

type bulkLine struct {
	Account *bulkAccount `json:"account"`
	Service *SeedService `json:"service"`
}

type bulkAccount struct {
	NIC          string `json:"nic"`
	Email        string `json:"email"`
	Language     string `json:"language"`
	GoodStanding *bool  `json:"goodStanding"` // required: a default would decide billing rights
}

// parseBulkLine decodes and checks one line; the reason is empty when it is well formed.
func parseBulkLine(line []byte) (bulkRecord, string) {
	var bl bulkLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bl); err != nil {
		return bulkRecord{}, "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bulkRecord{}, "invalid JSON: data after the object"
	}
	switch {
	case (bl.Account == nil) == (bl.Service == nil):
		return bulkRecord{}, `a line holds one object: {"account": {...}} or {"service": {...}}`
	case bl.Account != nil:
		return parseAccount(*bl.Account)
	default:
		return parseService(*bl.Service)
	}
}

func parseAccount(a bulkAccount) (bulkRecord, string) {
	nic, err := contact.NormalizeNIC(a.NIC)
	if err != nil {
		return bulkRecord{}, "account: " + message(err)
	}
	lang := strings.ToLower(strings.TrimSpace(a.Language))
	switch {
	case lang == "":
		lang = string(contact.English)
	case !contact.Language(lang).Valid():
		return bulkRecord{}, fmt.Sprintf("account %s: language %q is not one of en, fr, it", nic, a.Language)
	}
	if a.Email != "" && !contact.ValidEmail(a.Email) {
		return bulkRecord{}, fmt.Sprintf("account %s: email is not one address of at most %d characters", nic, contact.MaxEmailLength)
	}
	if a.GoodStanding == nil {
		return bulkRecord{}, fmt.Sprintf("account %s: goodStanding is required (true or false)", nic)
	}
	return bulkRecord{account: &accountItem{
		PK: accountPK(nic), SK: profileSK, NIC: nic, Email: a.Email, Language: lang, GoodStanding: *a.GoodStanding,
	}}, ""
}

func parseService(svc SeedService) (bulkRecord, string) {
	if svc.ID == "" {
		return bulkRecord{}, "service: id is required"
	}
	if !contact.ValidServiceID(svc.ID) {
		return bulkRecord{}, fmt.Sprintf("service %q: id must be at most %d letters, digits and . _ : -, starting with a letter or digit", svc.ID, contact.MaxServiceIDLength)
	}
	if !contact.ValidServiceType(svc.Type) {
		return bulkRecord{}, fmt.Sprintf("service %s: type %q must be at most %d lowercase letters, digits and -, like domain", svc.ID, svc.Type, contact.MaxServiceTypeLength)
	}
	for _, h := range []struct {
		role   contact.Role
		holder *string
	}{{contact.Admin, &svc.Admin}, {contact.Tech, &svc.Tech}, {contact.Billing, &svc.Billing}} {
		if *h.holder == "" {
			return bulkRecord{}, fmt.Sprintf("service %s: %s is required", svc.ID, h.role)
		}
		nic, err := contact.NormalizeNIC(*h.holder)
		if err != nil {
			return bulkRecord{}, fmt.Sprintf("service %s: %s: %s", svc.ID, h.role, message(err))
		}
		*h.holder = nic
	}
	return bulkRecord{service: &svc}, ""
}

// message is an error's text for people, without the domain's machine code.
func message(err error) string {
	var e *contact.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// holderOf is the holder of role r a service line names.
func holderOf(svc *SeedService, r contact.Role) string {
	switch r {
	case contact.Admin:
		return svc.Admin
	case contact.Tech:
		return svc.Tech
	}
	return svc.Billing
}

// bulkWrite is one unit of a chunk's writes: a batch of items, or one service's changes.
type bulkWrite struct {
	batch []map[string]types.AttributeValue
	txn   *serviceChange
}

// serviceChange is what an existing service's line changes, and the line it came from.
type serviceChange struct {
	line  int
	id    string
	items []types.TransactWriteItem
}

// flush reads what the table holds of a chunk's items, classifies each line and writes what
// changed. The chunk's lines touch distinct items, and the next chunk is read only once this
// one is written, so every line is compared with the table as the lines before left it.
func (l *bulkLoader) flush(ctx context.Context, chunk []bulkRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	reads := map[itemKey]bool{}
	for _, rec := range chunk {
		reads[rec.key()] = true
		if rec.service == nil {
			continue
		}
		for _, r := range contact.Roles {
			pk, sk := roleKey(rec.service.ID, r)
			reads[itemKey{pk, sk}] = true
			if h := holderOf(rec.service, r); !l.known[h] {
				reads[itemKey{accountPK(h), profileSK}] = true
			}
		}
	}
	current, err := l.s.bulkGet(ctx, slices.Collect(maps.Keys(reads)))
	if err != nil {
		return err
	}

	var batched []map[string]types.AttributeValue
	var changes []*serviceChange
	loaded, unchanged := 0, 0
	for _, rec := range chunk {
		if rec.account != nil {
			l.known[rec.account.NIC] = true
			item, changed, err := accountWrite(*rec.account, current[rec.key()])
			if err != nil {
				return err
			}
			if !changed {
				unchanged++
				continue
			}
			batched = append(batched, item)
			loaded++
			continue
		}
		w, reason, err := l.serviceWrite(rec, current)
		switch {
		case err != nil:
			return err
		case reason != "":
			l.reject(rec.line, fmt.Sprintf("service %s: %s", rec.service.ID, reason))
		case w.txn != nil:
			changes = append(changes, w.txn)
		case len(w.batch) > 0:
			batched = append(batched, w.batch...)
			loaded++
		default:
			unchanged++
		}
	}

	var writes []bulkWrite
	for batch := range slices.Chunk(batched, maxBatchWrite) {
		writes = append(writes, bulkWrite{batch: batch})
	}
	for _, c := range changes {
		writes = append(writes, bulkWrite{txn: c})
	}
	applied, err := l.write(ctx, writes)
	l.mu.Lock()
	if err == nil {
		l.sum.Loaded += loaded + applied
		l.sum.Unchanged += unchanged
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.report()
	return nil
}

// accountWrite is the item an account line writes, and whether it differs from the current
// one. A new email starts a fresh item: what was known of the old address no longer holds.
func accountWrite(a accountItem, current map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	owned, err := attributevalue.MarshalMap(a)
	if err != nil {
		return nil, false, fmt.Errorf("encode account %s: %w", a.NIC, err)
	}
	if len(current) > 0 && stringAttr(current, "email") != a.Email {
		return owned, true, nil
	}
	item, changed := merge(current, owned)
	return item, changed, nil
}

// serviceWrite classifies a service line: rejected (with the reason), unchanged, new (its
// items to batch) or changed (a transaction conditioned on the role items as read).
func (l *bulkLoader) serviceWrite(rec bulkRecord, current map[itemKey]map[string]types.AttributeValue) (bulkWrite, string, error) {
	svc := rec.service
	for _, r := range contact.Roles {
		h := holderOf(svc, r)
		if !l.known[h] {
			if len(current[itemKey{accountPK(h), profileSK}]) == 0 {
				return bulkWrite{}, fmt.Sprintf("%s %s is not an account (of the table, or of an earlier line)", r, h), nil
			}
			l.known[h] = true
		}
	}

	var writes []types.Put // each item that changes, with its condition when it is a role's
	owned, err := attributevalue.MarshalMap(serviceItem{PK: servicePK(svc.ID), SK: serviceSK, ID: svc.ID, Type: svc.Type})
	if err != nil {
		return bulkWrite{}, "", fmt.Errorf("encode service %s: %w", svc.ID, err)
	}
	cur := current[rec.key()]
	exists := len(cur) > 0
	if item, changed := merge(cur, owned); changed {
		writes = append(writes, types.Put{Item: item})
	}
	for _, r := range contact.Roles {
		pk, sk := roleKey(svc.ID, r)
		cur := current[itemKey{pk, sk}]
		role := newRoleItem(svc.ID, svc.Type, r, holderOf(svc, r))
		var was roleItem
		if len(cur) > 0 {
			exists = true
			if err := attributevalue.UnmarshalMap(cur, &was); err != nil {
				return bulkWrite{}, "", fmt.Errorf("decode %s role of service %s: %w", r, svc.ID, err)
			}
			if was.OpenRequest != "" && was.Holder != role.Holder {
				return bulkWrite{}, fmt.Sprintf("role %s has an open request; correct it through the operator API", r), nil
			}
			role.OpenRequest = was.OpenRequest // the lock stays with the role
		}
		owned, err := attributevalue.MarshalMap(role)
		if err != nil {
			return bulkWrite{}, "", fmt.Errorf("encode %s role of service %s: %w", r, svc.ID, err)
		}
		if item, changed := merge(cur, owned); changed {
			put := asRead(cur, was)
			put.Item = item
			writes = append(writes, put)
		}
	}

	switch {
	case len(writes) == 0:
		return bulkWrite{}, "", nil
	case !exists:
		var batch []map[string]types.AttributeValue
		for _, w := range writes {
			batch = append(batch, w.Item)
		}
		return bulkWrite{batch: batch}, "", nil
	}
	change := &serviceChange{line: rec.line, id: svc.ID}
	for _, put := range writes {
		put.TableName = aws.String(l.s.tables.Contacts)
		change.items = append(change.items, types.TransactWriteItem{Put: &put})
	}
	return bulkWrite{txn: change}, "", nil
}

// asRead is a put on condition that the role item is still as read: missing, or with the
// same holder and lock, so that no request opened meanwhile loses its lock or its holder.
func asRead(cur map[string]types.AttributeValue, was roleItem) types.Put {
	if len(cur) == 0 {
		return types.Put{ConditionExpression: aws.String("attribute_not_exists(pk)")}
	}
	cond := "holder = :holder AND openRequest = :open"
	values := map[string]types.AttributeValue{":holder": str(was.Holder), ":open": str(was.OpenRequest)}
	if _, ok := cur["openRequest"]; !ok {
		cond = "holder = :holder AND attribute_not_exists(openRequest)"
		delete(values, ":open")
	}
	return types.Put{ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}
}

// merge lays owned over current, keeping the attributes the load does not set, and reports
// whether that changes the item.
func merge(current, owned map[string]types.AttributeValue) (map[string]types.AttributeValue, bool) {
	if len(current) == 0 {
		return owned, true
	}
	item := maps.Clone(current)
	changed := false
	for name, v := range owned {
		if !sameAttr(current[name], v) {
			changed = true
		}
		item[name] = v
	}
	return item, changed
}

// sameAttr compares the kinds of attribute values the load writes.
func sameAttr(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	}
	return false
}

// write runs a chunk's writes, bulkWriters at a time, and returns how many service changes
// were applied; a change whose role items moved since they were read is rejected.
func (l *bulkLoader) write(ctx context.Context, writes []bulkWrite) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
		errs    []error
	)
	slots := make(chan struct{}, bulkWriters)
	for _, w := range writes {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if w.txn == nil {
				if err := l.s.bulkPut(ctx, w.batch); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					cancel()
				}
				return
			}
			ok, err := l.s.applyServiceChange(ctx, w.txn)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
				cancel()
			case ok:
				applied++
			default:
				l.reject(w.txn.line, fmt.Sprintf("service %s: changed while it was being loaded; load its line again", w.txn.id))
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return 0, errs[0]
	}
	return applied, nil
}

// bulkBackoff waits before the given attempt of a call DynamoDB left work of, or throttled:
// not before the first, then up to exponentially longer, at most two seconds, with jitter so
// that parallel writers do not retry in step. Only the end of ctx stops it.
func bulkBackoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return ctx.Err()
	}
	ceiling := 20 * time.Millisecond << min(attempt, 7)
	ceiling = min(ceiling, 2*time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(ceiling/2 + rand.N(ceiling/2)):
		return nil
	}
}

// bulkGet reads the items with the given keys from the contacts table, in concurrent calls of
// at most maxBatchGet keys, retrying the keys DynamoDB leaves unprocessed.
func (s *Store) bulkGet(ctx context.Context, keys []itemKey) (map[itemKey]map[string]types.AttributeValue, error) {
	table := s.tables.Contacts
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		items = map[itemKey]map[string]types.AttributeValue{}
		errs  []error
	)
	for batch := range slices.Chunk(keys, maxBatchGet) {
		wg.Go(func() {
			pending := make([]map[string]types.AttributeValue, len(batch))
			for i, k := range batch {
				pending[i] = k.attrs()
			}
			for attempt := 0; len(pending) > 0; attempt++ {
				if err := bulkBackoff(ctx, attempt); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("batch get from %s: %w", table, err))
					mu.Unlock()
					return
				}
				out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
					RequestItems: map[string]types.KeysAndAttributes{table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
				})
				if isThrottling(err) {
					continue
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, wrap(err, "batch get from %s", table))
					mu.Unlock()
					return
				}
				for _, item := range out.Responses[table] {
					items[itemKey{stringAttr(item, "pk"), stringAttr(item, "sk")}] = item
				}
				mu.Unlock()
				pending = out.UnprocessedKeys[table].Keys
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return items, nil
}

// bulkPut writes at most maxBatchWrite items into the contacts table with BatchWriteItem,
// retrying the items DynamoDB leaves unprocessed until it has processed them all.
func (s *Store) bulkPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	table := s.tables.Contacts
	writes := make([]types.WriteRequest, len(items))
	for i, item := range items {
		writes[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	for attempt := 0; len(writes) > 0; attempt++ {
		if err := bulkBackoff(ctx, attempt); err != nil {
			return fmt.Errorf("write into %s: %w", table, err)
		}
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: writes}})
		if isThrottling(err) {
			continue
		}
		if err != nil {
			return wrap(err, "write into %s", table)
		}
		writes = out.UnprocessedItems[table]
	}
	return nil
}

// applyServiceChange writes an existing service's changes in one transaction, and reports
// false when a role item is no longer as read. A transaction in the way, or throttling, is
// waited out.
func (s *Store) applyServiceChange(ctx context.Context, c *serviceChange) (bool, error) {
	for attempt := 0; ; attempt++ {
		if err := bulkBackoff(ctx, attempt); err != nil {
			return false, fmt.Errorf("change service %s: %w", c.id, err)
		}
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: c.items})
		if err == nil {
			return true, nil
		}
		var tc *types.TransactionCanceledException
		var busy *types.TransactionConflictException
		switch {
		case errors.As(err, &tc):
			for _, r := range tc.CancellationReasons {
				if deref(r.Code) == "ConditionalCheckFailed" {
					return false, nil
				}
			}
			if isThrottling(err) || slices.ContainsFunc(tc.CancellationReasons, func(r types.CancellationReason) bool {
				return deref(r.Code) == "TransactionConflict"
			}) {
				continue
			}
			// A backend that gives no reasons: the only condition is the role items'.
			if len(tc.CancellationReasons) == 0 {
				return false, nil
			}
		case errors.As(err, &busy), isThrottling(err):
			continue
		}
		return false, wrap(err, "change service %s", c.id)
	}
}
