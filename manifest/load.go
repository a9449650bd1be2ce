package manifest

import (
	"bytes"
	"context"
	"strings"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/storage"
)

// LoadClasses reads a class list: a file at v (a Ground Truth
// label-category config, or names separated by commas, as ReadClasses
// reads), or, when lists is set, the names themselves ("product,packaging").
// A value is a list only when it holds a comma and no '/': anything else
// is a file, so a path with a typo is "no such file", not a one-class
// list. Errors are fault.BadInput; name is how the caller names the input
// in messages ("--classes").
func LoadClasses(ctx context.Context, st *storage.Storage, name, v string, lists bool) (*ClassMap, error) {
	if lists && strings.Contains(v, ",") && !strings.Contains(v, "/") {
		m, err := ParseClassList(v)
		if err != nil {
			return nil, fault.BadInputf("%s %s: as a list of class names: %v", name, clip.Q(v), err)
		}
		return m, nil
	}
	data, file, err := st.ReadInput(ctx, name, v, "")
	if err != nil {
		return nil, err
	}
	m, err := ReadClasses(bytes.NewReader(data))
	if err != nil {
		return nil, fault.BadInputf("%s %s: not a class list (%s): %v", name, clip.S(file), storage.Describe(data), err)
	}
	return m, nil
}
