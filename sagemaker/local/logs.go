package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sm "github.com/reviewlens/reviewlens/sagemaker"
)

// Logs is the jobs' logs as a sagemaker.LogSource, so that a step's
// --logs follows local jobs as it follows CloudWatch on AWS. Each job has
// one stream, "<job>/log": its log file under the root, whose lines are
// "<RFC 3339 time> <line>". A read returns whole lines only; its token is
// the byte offset read to.
func (c *Client) Logs() sm.LogSource { return fileLogs{st: c.st} }

type fileLogs struct{ st store }

func (l fileLogs) Streams(_ context.Context, kind sm.LogKind, prefix string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(l.st.root, "logs", string(kind)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if job, ok := strings.CutSuffix(e.Name(), ".log"); ok && strings.HasPrefix(job+"/log", prefix) {
			out = append(out, job+"/log")
		}
	}
	return out, nil
}

// maxLogRead bounds the bytes one read of a log returns.
const maxLogRead = 1 << 20

func (l fileLogs) Events(_ context.Context, kind sm.LogKind, stream, token string) ([]sm.LogEvent, string, error) {
	job, _, _ := strings.Cut(stream, "/")
	f, err := os.Open(l.st.logPath(string(kind), job))
	if err != nil {
		return nil, token, err
	}
	defer f.Close()
	off := int64(0)
	if token != "" {
		if off, err = strconv.ParseInt(token, 10, 64); err != nil || off < 0 {
			return nil, token, fmt.Errorf("local logs: bad token %q", token)
		}
	}
	buf := make([]byte, maxLogRead)
	n, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, token, err
	}
	whole := strings.LastIndexByte(string(buf[:n]), '\n') + 1
	var events []sm.LogEvent
	for line := range strings.Lines(string(buf[:whole])) {
		line = strings.TrimSuffix(line, "\n")
		ev := sm.LogEvent{Message: line}
		if ts, rest, ok := strings.Cut(line, " "); ok {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				ev = sm.LogEvent{Time: t, Message: rest}
			}
		}
		events = append(events, ev)
	}
	return events, strconv.FormatInt(off+int64(whole), 10), nil
}
