package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// Fetch reads what f names with one BatchGetItem across both tables, every read strongly
// consistent, and tells the items apart by their keys.
func (s *Store) Fetch(ctx context.Context, f contact.Fetch) (contact.Fetched, error) {
	got := contact.Fetched{Accounts: map[string]contact.Account{}}
	var keys []tableKey
	if f.Change != "" {
		keys = append(keys, tableKey{s.tables.Requests, key(requestPK(f.Change), requestSK)})
	}
	if f.Counter.Key != "" {
		keys = append(keys, tableKey{s.tables.Requests, counterKey(f.Counter)})
	}
	if f.Service != "" {
		keys = append(keys, tableKey{s.tables.Contacts, key(servicePK(f.Service), serviceSK)})
		for _, r := range contact.Roles {
			keys = append(keys, tableKey{s.tables.Contacts, key(roleKey(f.Service, r))})
		}
	}
	seen := map[string]bool{} // BatchGetItem refuses a key given twice
	for _, nic := range f.Accounts {
		if nic != "" && !seen[nic] {
			seen[nic] = true
			keys = append(keys, tableKey{s.tables.Contacts, key(accountPK(nic), profileSK)})
		}
	}
	if len(keys) == 0 {
		return got, nil
	}
	found, err := s.batchGetAll(ctx, keys)
	if err != nil {
		return contact.Fetched{}, fmt.Errorf("fetch %s: %w", describe(f), err)
	}

	svc, svcFound := newService(f.Service, ""), false
	for _, items := range found {
		for _, item := range items {
			pk, sk := stringAttr(item, "pk"), stringAttr(item, "sk")
			var err error
			switch {
			case strings.HasPrefix(pk, requestPrefix):
				var it requestItem
				err = attributevalue.UnmarshalMap(item, &it)
				got.Change = it.change()
			case strings.HasPrefix(pk, limitPrefix):
				got.Count, err = uses(item)
			case strings.HasPrefix(pk, accountPrefix):
				var it accountItem
				err = attributevalue.UnmarshalMap(item, &it)
				got.Accounts[it.NIC] = it.account()
			case sk == serviceSK:
				var it serviceItem
				err = attributevalue.UnmarshalMap(item, &it)
				svc.Type, svcFound = it.Type, true
			default:
				var it roleItem
				err = attributevalue.UnmarshalMap(item, &it)
				it.addTo(&svc)
			}
			if err != nil {
				return contact.Fetched{}, fmt.Errorf("decode %s %s: %w", pk, sk, err)
			}
		}
	}
	if svcFound {
		got.Service = svc
	}
	return got, nil
}

// describe names what f reads, for errors.
func describe(f contact.Fetch) string {
	var parts []string
	if f.Change != "" {
		parts = append(parts, "request "+f.Change)
	}
	if f.Counter.Key != "" {
		parts = append(parts, "counter "+f.Counter.Key)
	}
	if f.Service != "" {
		parts = append(parts, "service "+f.Service)
	}
	if len(f.Accounts) > 0 {
		parts = append(parts, "accounts "+strings.Join(f.Accounts, ", "))
	}
	return strings.Join(parts, ", ")
}

// uses is the count a counter item holds.
func uses(item map[string]types.AttributeValue) (int, error) {
	v, ok := item[usesAttr].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		return 0, fmt.Errorf("decode the count: %w", err)
	}
	return n, nil
}
