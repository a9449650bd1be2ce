package synth

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// Streams of random numbers, so that the labelled set and a day drawn from
// the same seed share no photo.
const (
	streamPlan uint64 = iota + 1
	streamLabelled
	streamDay
)

// photoRNG is photo i's own random source: a photo is the same whatever
// the number of workers and whatever else is drawn.
func photoRNG(seed int64, stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream<<48|uint64(i)))
}

func planRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), streamPlan<<56|stream))
}

// job is one photo to draw and write.
type job struct {
	path  string
	class Class
	opts  Options
	rng   *rand.Rand
}

// writePhotos draws and writes the photos on workers goroutines (0 means
// GOMAXPROCS) and returns what each photo is.
func writePhotos(ctx context.Context, jobs []job, workers int) ([]Info, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	infos := make([]Info, len(jobs))
	var next atomic.Int64
	var first error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				data, info, err := JPEG(j.rng, j.class, j.opts)
				if err == nil {
					err = os.WriteFile(j.path, data, 0o644)
				}
				if err != nil {
					once.Do(func() { first = fmt.Errorf("write photo: %w", err); cancel() })
					return
				}
				infos[i] = info
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return infos, nil
}

// writeAtomic writes a file through a temporary file and a rename, so that
// a reader never sees it half written.
func writeAtomic(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// A Truth is what a photo really shows, kept aside for scoring.
type Truth struct {
	ImageURI   string
	ReviewID   string // "" in a labelled set
	ImageIndex int
	Class      Class
	Difficulty Difficulty
}

var truthHeader = []string{"image_uri", "review_id", "image_index", "class", "difficulty"}

// WriteTruth writes truth rows as CSV with a header: image_uri,
// review_id, image_index, class (its name), difficulty (easy, occluded,
// cropped or blurred).
func WriteTruth(w io.Writer, rows []Truth) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(truthHeader); err != nil {
		return err
	}
	for _, t := range rows {
		if err := cw.Write([]string{t.ImageURI, t.ReviewID, strconv.Itoa(t.ImageIndex), t.Class.String(), t.Difficulty.String()}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadTruth reads what WriteTruth writes.
func ReadTruth(r io.Reader) ([]Truth, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(truthHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read truth: %w", err)
	}
	for i, h := range truthHeader {
		if head[i] != h {
			return nil, fmt.Errorf("read truth: column %d is %q, want %q", i+1, head[i], h)
		}
	}
	var rows []Truth
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read truth: %w", err)
		}
		idx, err := strconv.Atoi(rec[2])
		if err != nil {
			return nil, fmt.Errorf("read truth: line %d: image_index %q: want an integer", line, rec[2])
		}
		c, err := ParseClass(rec[3])
		if err != nil {
			return nil, fmt.Errorf("read truth: line %d: %w", line, err)
		}
		d, err := ParseDifficulty(rec[4])
		if err != nil {
			return nil, fmt.Errorf("read truth: line %d: %w", line, err)
		}
		rows = append(rows, Truth{ImageURI: rec[0], ReviewID: rec[1], ImageIndex: idx, Class: c, Difficulty: d})
	}
}
