package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Counters of the abuse limits live in the requests table, whose TTL purges them once their
// window has ended: LIMIT#<key> / WINDOW#<start>, with their count in "uses". They carry no
// index attribute, so no index sees them.
const (
	limitPrefix  = "LIMIT#"
	windowPrefix = "WINDOW#"
	usesAttr     = "uses"
)

// countAttempts bounds the rounds of a Count whose transaction keeps meeting another one
// on the same counters (concurrent callers counting at once).
const countAttempts = 12

func counterKey(c contact.Counter) map[string]types.AttributeValue {
	return key(limitPrefix+c.Key, windowPrefix+formatTime(c.Start))
}

// Count adds each use to its counter: one UpdateItem for one counter, a transaction for
// several, each an ADD conditional on the count staying within the use's Max. Uses of the
// same counter are added together.
func (s *Store) Count(ctx context.Context, uses []contact.Use) error {
	uses = mergeUses(uses)
	for _, u := range uses {
		if u.Max > 0 && u.N > u.Max {
			return &contact.LimitReached{Use: u}
		}
	}
	if len(uses) == 0 {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := s.count(ctx, uses)
		if !errors.Is(err, errCountRace) {
			return err
		}
		if attempt+1 >= countAttempts {
			// As for any transaction that keeps losing: the caller may try again.
			return fmt.Errorf("count %d uses: %w", len(uses), contact.ErrConflict)
		}
		if err := pauseCount(ctx, attempt); err != nil {
			return fmt.Errorf("count %d uses: %w", len(uses), err)
		}
	}
}

// errCountRace is a count that another writer of the same counters got in the way of.
var errCountRace = errors.New("counter busy")

func (s *Store) count(ctx context.Context, uses []contact.Use) error {
	updates := make([]*types.Update, len(uses))
	for i, u := range uses {
		updates[i] = s.countUpdate(u)
	}
	if len(updates) == 1 {
		up := updates[0]
		_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: up.TableName, Key: up.Key, UpdateExpression: up.UpdateExpression,
			ConditionExpression: up.ConditionExpression, ExpressionAttributeNames: up.ExpressionAttributeNames,
			ExpressionAttributeValues: up.ExpressionAttributeValues,
		})
		var busy *types.TransactionConflictException
		switch {
		case err == nil:
			return nil
		case isConditionFailure(err):
			return &contact.LimitReached{Use: uses[0]}
		case errors.As(err, &busy):
			return errCountRace
		}
		return wrap(err, "count uses of %s", uses[0].Key)
	}
	items := make([]types.TransactWriteItem, len(updates))
	for i, up := range updates {
		items[i] = types.TransactWriteItem{Update: up}
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if isThrottling(err) {
		return fmt.Errorf("count %d uses: %w", len(uses), errThrottled())
	}
	var tc *types.TransactionCanceledException
	var busy *types.TransactionConflictException
	switch {
	case errors.As(err, &tc):
		for i, r := range tc.CancellationReasons {
			if deref(r.Code) == "ConditionalCheckFailed" && i < len(uses) {
				return &contact.LimitReached{Use: uses[i]}
			}
		}
		// No reason names a failed condition: another transaction held a counter, or the
		// backend gave no reasons; which limit, if any, was reached shows on reading them.
		reached, err := s.reached(ctx, uses)
		switch {
		case err != nil:
			return err
		case reached != nil:
			return reached
		}
		return errCountRace
	case errors.As(err, &busy):
		return errCountRace
	}
	return wrap(err, "count %d uses", len(uses))
}

// transactCounted writes writes and counts uses in one transaction, the counters' updates
// after the writes. A use past its Max fails it with a *LimitReached; another transaction
// on a counter makes it try again, as Count does; classify names any other failure.
func (s *Store) transactCounted(ctx context.Context, writes []types.TransactWriteItem, uses []contact.Use, classify func(error) error) error {
	uses = mergeUses(uses)
	for _, u := range uses {
		if u.Max > 0 && u.N > u.Max {
			return &contact.LimitReached{Use: u}
		}
	}
	items := slices.Clone(writes)
	for _, u := range uses {
		items = append(items, types.TransactWriteItem{Update: s.countUpdate(u)})
	}
	for attempt := 0; ; attempt++ {
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		err = s.countedError(ctx, err, len(writes), uses)
		if !errors.Is(err, errCountRace) {
			if err == nil || errors.As(err, new(*contact.LimitReached)) {
				return err
			}
			return classify(err)
		}
		if attempt+1 >= countAttempts {
			return fmt.Errorf("count %d uses: %w", len(uses), contact.ErrConflict)
		}
		if err := pauseCount(ctx, attempt); err != nil {
			return fmt.Errorf("count %d uses: %w", len(uses), err)
		}
	}
}

// countedError tells, of a transaction whose items from the offset-th on count uses, a use
// past its Max (a *LimitReached) and a race on the counters alone (errCountRace); any other
// error is returned as it is.
func (s *Store) countedError(ctx context.Context, err error, offset int, uses []contact.Use) error {
	var tc *types.TransactionCanceledException
	if err == nil || isThrottling(err) || !errors.As(err, &tc) {
		return err
	}
	reasons := tc.CancellationReasons
	for i, u := range uses {
		if failed(reasons, offset+i, "ConditionalCheckFailed") {
			return &contact.LimitReached{Use: u}
		}
	}
	if len(reasons) == 0 {
		// A backend that gives no reasons: which limit, if any, was reached shows on
		// reading the counters; otherwise the writes failed.
		reached, readErr := s.reached(ctx, uses)
		switch {
		case readErr != nil:
			return readErr
		case reached != nil:
			return reached
		}
		return err
	}
	for i := range min(offset, len(reasons)) {
		if code := deref(reasons[i].Code); code != "" && code != "None" {
			return err // the writes failed
		}
	}
	return errCountRace
}

// reached returns the LimitReached of the first of uses whose counter has no room left for
// it, or nil.
func (s *Store) reached(ctx context.Context, uses []contact.Use) (*contact.LimitReached, error) {
	for _, u := range uses {
		if u.Max == 0 {
			continue
		}
		n, err := s.Counted(ctx, u.Counter)
		if err != nil {
			return nil, err
		}
		if n+u.N > u.Max {
			return &contact.LimitReached{Use: u}, nil
		}
	}
	return nil, nil
}

// pauseCount waits a little, at random, before another attempt at counting, so that
// concurrent transactions on the same counters do not meet again.
func pauseCount(ctx context.Context, attempt int) error {
	ceiling := time.Duration(min(attempt+1, 8)) * 10 * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rand.Int64N(int64(ceiling)))):
		return nil
	}
}

// countUpdate adds u.N to u's counter, if the count stays within u.Max, and sets the time
// after which DynamoDB may purge it.
func (s *Store) countUpdate(u contact.Use) *types.Update {
	up := &types.Update{
		TableName:                aws.String(s.tables.Requests),
		Key:                      counterKey(u.Counter),
		UpdateExpression:         aws.String("SET " + TTLAttribute + " = :purge ADD #uses :n"),
		ExpressionAttributeNames: map[string]string{"#uses": usesAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n":     num(u.N),
			":purge": &types.AttributeValueMemberN{Value: strconv.FormatInt(u.End.Unix(), 10)},
		},
	}
	if u.Max > 0 {
		up.ConditionExpression = aws.String("attribute_not_exists(#uses) OR #uses <= :most")
		up.ExpressionAttributeValues[":most"] = num(u.Max - u.N)
	}
	return up
}

// mergeUses adds up the uses of the same counter (a transaction may not write an item
// twice), keeping the strictest Max; the order is that of each counter's first use.
func mergeUses(uses []contact.Use) []contact.Use {
	var out []contact.Use
	at := map[string]int{}
	for _, u := range uses {
		id := u.Key + "#" + formatTime(u.Start)
		i, ok := at[id]
		if !ok {
			at[id] = len(out)
			out = append(out, u)
			continue
		}
		out[i].N += u.N
		if u.Max > 0 && (out[i].Max == 0 || u.Max < out[i].Max) {
			out[i].Max = u.Max
		}
	}
	return out
}

// Counted reads a counter; one never used, or purged, counts 0.
func (s *Store) Counted(ctx context.Context, c contact.Counter) (int, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.tables.Requests),
		Key:                      counterKey(c),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#uses"),
		ExpressionAttributeNames: map[string]string{"#uses": usesAttr},
	})
	if err != nil {
		return 0, wrap(err, "get counter %s", c.Key)
	}
	n, err := uses(out.Item)
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", c.Key, err)
	}
	return n, nil
}
