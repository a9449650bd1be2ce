// Package fault says what kind of failure an error of a reviewlens step
// is, so that a caller — the step binaries, a Go program, an Airflow task
// written in Go — can tell a mistake in the input, which running again
// will not fix, from a failure worth a retry:
//
//	res, err := inspect.Stage(ctx, st, opts)
//	switch fault.KindOf(err) {
//	case fault.BadInput: // fix the input; the message names file, row, field
//	case fault.Transient: // throttling, the network: retry later
//	}
//
// The binaries turn the kinds into exit codes (2, 3, 4, 75). An error of
// no kind here is a plain failure. The package is a leaf: any package of
// reviewlens may use it.
package fault

import (
	"errors"
	"fmt"
)

// A Kind is a kind of failure.
type Kind int

const (
	// Other is any other failure (exit 1).
	Other Kind = iota
	// BadInput is a mistake in the input or the options: a missing file,
	// a bad row, a value out of range (exit 2). The message says what and
	// where.
	BadInput
	// JobFailed is a SageMaker job that failed (exit 3).
	JobFailed
	// JobStopped is a job that was stopped (exit 4).
	JobStopped
	// Transient is a failure that may pass: throttling, a network error, a
	// server that did not answer in time (exit 75).
	Transient
)

func (k Kind) String() string {
	switch k {
	case BadInput:
		return "bad input"
	case JobFailed:
		return "job failed"
	case JobStopped:
		return "job stopped"
	case Transient:
		return "transient"
	}
	return "other"
}

// An Error is an error of a known kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Kind.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New wraps err as a failure of kind k; a nil err stays nil, so that
// "return res, fault.New(fault.Transient, err)" is safe.
func New(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// Errorf is New of fmt.Errorf(format, args...).
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// BadInputf is Errorf(BadInput, format, args...), the common case.
func BadInputf(format string, args ...any) error {
	return Errorf(BadInput, format, args...)
}

// KindOf returns the kind of the first *Error in err's chain, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Is reports whether err is a failure of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
