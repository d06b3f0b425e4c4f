package embedded

import (
	"bytes"
	"math/big"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	mtypes "github.com/truora/minidyn/types"
)

// An item is a stored item's attributes. Stored items are never changed in place: a write
// replaces the item, so a reader's copy of it stays true to the moment it was read.
type item = map[string]types.AttributeValue

// compareKeys orders two key values of the same scalar type as DynamoDB does: strings and
// binaries by their bytes, numbers by value.
func compareKeys(a, b types.AttributeValue) int {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		return strings.Compare(a.Value, b.(*types.AttributeValueMemberS).Value)
	case *types.AttributeValueMemberN:
		x, _, _ := big.ParseFloat(a.Value, 10, 200, big.ToNearestEven)
		y, _, _ := big.ParseFloat(b.(*types.AttributeValueMemberN).Value, 10, 200, big.ToNearestEven)
		if x == nil || y == nil { // validated on the way in
			return strings.Compare(a.Value, b.(*types.AttributeValueMemberN).Value)
		}
		return x.Cmp(y)
	case *types.AttributeValueMemberB:
		return bytes.Compare(a.Value, b.(*types.AttributeValueMemberB).Value)
	}
	return 0
}

// scalarType is the key type of v, or "" when v cannot be a key.
func scalarType(v types.AttributeValue) types.ScalarAttributeType {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return types.ScalarAttributeTypeS
	case *types.AttributeValueMemberN:
		if _, _, err := big.ParseFloat(v.Value, 10, 200, big.ToNearestEven); err != nil {
			return ""
		}
		return types.ScalarAttributeTypeN
	case *types.AttributeValueMemberB:
		return types.ScalarAttributeTypeB
	}
	return ""
}

// empty reports a key value DynamoDB refuses: an empty string or binary.
func empty(v types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value == ""
	case *types.AttributeValueMemberB:
		return len(v.Value) == 0
	}
	return false
}

// encodeKey makes a map key of key values; numbers are normalised so that 1 and 1.0 are
// the same key.
func encodeKey(vs ...types.AttributeValue) string {
	var b strings.Builder
	for _, v := range vs {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			b.WriteString("S" + v.Value)
		case *types.AttributeValueMemberN:
			f, _, _ := big.ParseFloat(v.Value, 10, 200, big.ToNearestEven)
			b.WriteString("N" + f.Text('g', -1))
		case *types.AttributeValueMemberB:
			b.WriteString("B")
			b.Write(v.Value)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// cloneItem copies an item deeply, so that callers never share memory with the store.
func cloneItem(it item) item {
	if it == nil {
		return nil
	}
	out := make(item, len(it))
	for k, v := range it {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = bytes.Clone(b)
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = cloneValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: cloneItem(v.Value)}
	}
	return v
}

// The expression interpreter works on minidyn's representation of values: toMini and
// fromMini convert to and from it.

func toMini(it item) map[string]*mtypes.Item {
	out := make(map[string]*mtypes.Item, len(it))
	for k, v := range it {
		out[k] = toMiniValue(v)
	}
	return out
}

func toMiniValue(v types.AttributeValue) *mtypes.Item {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &mtypes.Item{S: new(v.Value)}
	case *types.AttributeValueMemberN:
		return &mtypes.Item{N: new(v.Value)}
	case *types.AttributeValueMemberB:
		return &mtypes.Item{B: bytes.Clone(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return &mtypes.Item{BOOL: new(v.Value)}
	case *types.AttributeValueMemberNULL:
		return &mtypes.Item{NULL: new(v.Value)}
	case *types.AttributeValueMemberSS:
		return &mtypes.Item{SS: pointers(v.Value)}
	case *types.AttributeValueMemberNS:
		return &mtypes.Item{NS: pointers(v.Value)}
	case *types.AttributeValueMemberBS:
		return &mtypes.Item{BS: v.Value}
	case *types.AttributeValueMemberL:
		l := make([]*mtypes.Item, len(v.Value))
		for i, e := range v.Value {
			l[i] = toMiniValue(e)
		}
		return &mtypes.Item{L: l}
	case *types.AttributeValueMemberM:
		return &mtypes.Item{M: toMini(v.Value)}
	}
	return &mtypes.Item{NULL: new(true)}
}

func fromMini(it map[string]*mtypes.Item) item {
	out := make(item, len(it))
	for k, v := range it {
		out[k] = fromMiniValue(v)
	}
	return out
}

func fromMiniValue(v *mtypes.Item) types.AttributeValue {
	switch {
	case v.S != nil:
		return &types.AttributeValueMemberS{Value: *v.S}
	case v.N != nil:
		return &types.AttributeValueMemberN{Value: *v.N}
	case v.B != nil:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.B)}
	case v.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *v.BOOL}
	case v.SS != nil:
		return &types.AttributeValueMemberSS{Value: values(v.SS)}
	case v.NS != nil:
		return &types.AttributeValueMemberNS{Value: values(v.NS)}
	case v.BS != nil:
		return &types.AttributeValueMemberBS{Value: v.BS}
	case v.L != nil:
		l := make([]types.AttributeValue, len(v.L))
		for i, e := range v.L {
			l[i] = fromMiniValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case v.M != nil:
		return &types.AttributeValueMemberM{Value: fromMini(v.M)}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

func pointers(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

func values(ps []*string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// subset returns the named attributes of it that it has.
func subset(it item, names ...string) item {
	out := make(item, len(names))
	for _, n := range names {
		if v, ok := it[n]; ok {
			out[n] = v
		}
	}
	return out
}

// changed returns the attributes of a whose value differs in b or that b lacks: with a the
// item after an update and b the one before, the attributes the update set.
func changed(a, b item) []string {
	var names []string
	for k, v := range a {
		if w, ok := b[k]; !ok || !equal(v, w) {
			names = append(names, k)
		}
	}
	return names
}

// equal compares values by content; the SDK's value types hold nothing else.
func equal(a, b types.AttributeValue) bool { return reflect.DeepEqual(a, b) }
