package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The state of a root folder:
//
//	<root>/state.lock                 held while a record is read-modified-written
//	<root>/<kind>/<name>.json         a job's or a model's record
//	<root>/<kind>/<name>.running      held (flock) by the process running the job
//	<root>/logs/<kind>/<name>.log     the job's log, line by line
//
// kind is training, transform or model. Records are written whole
// (temporary file, sync, rename), so a reader never sees half of one; the
// state lock makes a read-modify-write atomic across processes sharing a
// root. A job's record says InProgress only while the process running it
// holds its .running lock: when that process dies, however it dies, the
// lock goes with it, and the next Describe finds the job interrupted.

const (
	kindTraining  = "training"
	kindTransform = "transform"
	kindModel     = "model"
)

// store is a root folder.
type store struct{ root string }

func (s store) dir(kind string) string { return filepath.Join(s.root, kind) }

func (s store) recordPath(kind, name string) string {
	return filepath.Join(s.dir(kind), name+".json")
}

func (s store) runningPath(kind, name string) string {
	return filepath.Join(s.dir(kind), name+".running")
}

// LogPath is where a job's log goes.
func (s store) logPath(kind, name string) string {
	return filepath.Join(s.root, "logs", kind, name+".log")
}

// lock takes the root's state lock, waiting for it; unlock releases it.
func (s store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.root, "state.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", s.root, err)
	}
	return func() { f.Close() }, nil
}

// read reads a record into v; false when there is none.
func (s store) read(kind, name string, v any) (bool, error) {
	data, err := os.ReadFile(s.recordPath(kind, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("local backend: record %s: %w", s.recordPath(kind, name), err)
	}
	return true, nil
}

// write writes a record whole.
func (s store) write(kind, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := s.dir(kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.recordPath(kind, name))
}

// running is the lock a job's process holds while it runs the job.
type running struct{ f *os.File }

// claim takes the job's running lock; the process then runs the job, and
// release ends the claim.
func (s store) claim(kind, name string) (*running, error) {
	if err := os.MkdirAll(s.dir(kind), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.runningPath(kind, name), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("local backend: job %s is run by another process", name)
	}
	return &running{f: f}, nil
}

func (r *running) release() {
	if r != nil && r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// alive reports whether a process holds the job's running lock.
func (s store) alive(kind, name string) bool {
	f, err := os.OpenFile(s.runningPath(kind, name), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// transition is one secondary status a job went through.
type transition struct {
	Status  string     `json:"status"`
	Start   time.Time  `json:"start"`
	End     *time.Time `json:"end,omitempty"`
	Message string     `json:"message,omitempty"`
}

// jobState is what training and transform records share.
type jobState struct {
	Name          string       `json:"name"`
	Status        string       `json:"status"`              // InProgress, Stopping, Completed, Failed, Stopped
	Secondary     string       `json:"secondary,omitempty"` // training jobs only
	FailureReason string       `json:"failure_reason,omitempty"`
	StopRequested bool         `json:"stop_requested,omitempty"`
	Created       time.Time    `json:"created"`
	Started       *time.Time   `json:"started,omitempty"`
	Ended         *time.Time   `json:"ended,omitempty"`
	Modified      time.Time    `json:"modified"`
	Transitions   []transition `json:"transitions,omitempty"`
	PID           int          `json:"pid"`
}

// terminal reports whether the job is over.
func (j *jobState) terminal() bool {
	switch j.Status {
	case "Completed", "Failed", "Stopped":
		return true
	}
	return false
}

// enter records a new secondary status.
func (j *jobState) enter(status, message string, now time.Time) {
	if n := len(j.Transitions); n > 0 && j.Transitions[n-1].End == nil {
		j.Transitions[n-1].End = &now
	}
	j.Secondary = status
	j.Transitions = append(j.Transitions, transition{Status: status, Start: now, Message: message})
	j.Modified = now
}

// finish ends the job with status (and the secondary status of the same
// name for a training job).
func (j *jobState) finish(status, reason string, now time.Time) {
	j.Status, j.FailureReason = status, reason
	j.Ended = &now
	j.enter(status, reason, now)
}
