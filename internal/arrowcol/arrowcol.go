// Package arrowcol reads the columns of tables a user exported from another
// tool (reviews, answers), whatever Arrow type their writer chose for a
// string or an integer: the checks and getters the readers of inspect,
// credit/ledger and manifest/consolidate share.
package arrowcol

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// IsInteger reports whether t is a signed or unsigned integer type.
func IsInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// IsString reports whether t holds strings: utf8, large or view, or a
// dictionary of them.
func IsString(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return IsString(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

// Strings reads a string column (checked by IsString); null is "", false.
func Strings(a arrow.Array) func(int) (string, bool) {
	switch a := a.(type) {
	case *array.String:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }
	case *array.LargeString:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }
	case *array.StringView:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }
	case *array.Dictionary:
		values := Strings(a.Dictionary())
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return values(a.GetValueIndex(i))
		}
	}
	panic(fmt.Sprintf("arrowcol: column of type %s read as strings", a.DataType()))
}

// Ints reads an integer column (checked by IsInteger); null is 0, false.
// A uint64 above math.MaxInt64 reads as math.MaxInt64.
func Ints(a arrow.Array) func(int) (int64, bool) {
	switch a := a.(type) {
	case *array.Int8:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Int16:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Int32:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Int64:
		return func(i int) (int64, bool) { return a.Value(i), a.IsValid(i) }
	case *array.Uint8:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Uint16:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Uint32:
		return func(i int) (int64, bool) { return int64(a.Value(i)), a.IsValid(i) }
	case *array.Uint64:
		return func(i int) (int64, bool) { return int64(min(a.Value(i), math.MaxInt64)), a.IsValid(i) }
	}
	panic(fmt.Sprintf("arrowcol: column of type %s read as integers", a.DataType()))
}
