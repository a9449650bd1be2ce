package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/reviewlens/reviewlens/fault"
)

func TestKindOf(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"nil", nil, fault.Other},
		{"plain", base, fault.Other},
		{"bad input", fault.BadInputf("--day %q: want YYYY-MM-DD", "x"), fault.BadInput},
		{"wrapped", fmt.Errorf("stage: %w", fault.New(fault.Transient, base)), fault.Transient},
		{"first wins", fault.New(fault.JobFailed, fault.New(fault.Transient, base)), fault.JobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
	if fault.New(fault.BadInput, nil) != nil {
		t.Error("New of a nil error is not nil")
	}
	if err := fault.New(fault.Transient, base); !errors.Is(err, base) || !fault.Is(err, fault.Transient) {
		t.Errorf("%v does not wrap its error or is not transient", err)
	}
}
