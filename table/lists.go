package table

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// AppendStrings appends ss as one list to lb, a builder of a list of
// strings. With emptyIsNull, an "" is written as a null element.
func AppendStrings(lb *array.ListBuilder, ss []string, emptyIsNull bool) {
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range ss {
		if s == "" && emptyIsNull {
			vb.AppendNull()
		} else {
			vb.Append(s)
		}
	}
}

// AppendFloats appends fs as one list to lb, a builder of a list of
// float64; a NaN is written as a null element.
func AppendFloats(lb *array.ListBuilder, fs []float64) {
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.Float64Builder)
	for _, f := range fs {
		if math.IsNaN(f) {
			vb.AppendNull()
		} else {
			vb.Append(f)
		}
	}
}

// StringsAt returns list i of l, a list of strings, with "" for a null
// element; nil for an empty list. The strings share l's memory, which the
// Go allocator keeps alive as long as they are.
func StringsAt(l *array.List, i int) []string {
	start, end := l.ValueOffsets(i)
	if end <= start {
		return nil
	}
	vs := l.ListValues().(*array.String)
	out := make([]string, 0, end-start)
	for j := int(start); j < int(end); j++ {
		if vs.IsNull(j) {
			out = append(out, "")
		} else {
			out = append(out, vs.Value(j))
		}
	}
	return out
}

// FloatsAt returns list i of l, a list of float64, with NaN for a null
// element; nil for an empty list.
func FloatsAt(l *array.List, i int) []float64 {
	start, end := l.ValueOffsets(i)
	if end <= start {
		return nil
	}
	vs := l.ListValues().(*array.Float64)
	out := make([]float64, 0, end-start)
	for j := int(start); j < int(end); j++ {
		if vs.IsNull(j) {
			out = append(out, math.NaN())
		} else {
			out = append(out, vs.Value(j))
		}
	}
	return out
}
