// Package local is reviewlens's local backend: a client that satisfies
// sagemaker.API and runs the jobs in this process, on this machine, with no
// AWS account, so that the tuner and the transformer run on it unchanged.
//
// Training really trains: the train and validation channels (augmented
// manifests, or .lst files with their photos) are read through a
// storage.Storage (local folders, or buckets served from folders or opened
// by the caller), the JPEG and PNG photos decoded (their size checked
// before they are decoded, so a decompression bomb is refused), resized to
// image_shape and fitted by a small convolutional network in pure Go,
// mini-batch SGD on every core. The built-in algorithm's hyperparameters
// that apply are honoured; the job reports train:accuracy and
// validation:accuracy as final metrics, secondary status transitions and
// training seconds, and writes model.tar.gz under
// <S3OutputPath>/<job>/output/ as SageMaker does. A transform job reads its
// ManifestFile or prefix, classifies each photo and writes <key>.out
// holding {"prediction": [...]}, the built-in algorithm's format; a photo it
// cannot decode gets no output and the job ends Failed, as SageMaker's
// does.
//
// # State
//
// Jobs and models live in a root folder (Options.Root), so that a rerun,
// or another process sharing the root, finds them: names are unique for
// ever (ResourceInUse, as on SageMaker), describing a missing job is a
// ValidationException "Requested resource not found.", and a job whose
// process died is reported Failed with reason "interrupted", which the
// tuner's new-attempt rule takes over. Processes sharing a root do not
// corrupt it (a lock, and records written whole). Stop goes through
// Stopping to Stopped, and a stopped transform leaves no outputs. Jobs run
// in the process that created them, one at a time (each uses every core);
// the others wait in secondary status Pending.
//
// Hyperparameter tuning jobs are not supported: the tuner's default
// strategy, one training job a grid point, runs here.
//
// The package uses flock(2): it builds on Unix systems.
package local

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	sm "github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Options configure a Client.
type Options struct {
	// Root is the folder jobs and models live in. Empty means
	// <user cache dir>/reviewlens/local.
	Root string
	// Storage reads the channels and photos and writes the artifacts and
	// outputs: s3:// URIs in the jobs are read through it. Required.
	Storage *storage.Storage
	// Logger receives the jobs' progress (epochs, accuracy). Nil means
	// slog.Default().
	Logger *slog.Logger
	// Engine trains models and classifies photos. Nil means the built-in
	// convolutional network.
	Engine Engine
	// Now tells the time recorded in jobs; nil means time.Now.
	Now func() time.Time
}

// A Client runs SageMaker jobs locally. It is safe for concurrent use.
type Client struct {
	opts   Options
	st     store
	log    *slog.Logger
	engine Engine

	mu      sync.Mutex
	cancels map[string]context.CancelFunc // running jobs of this process, by kind/name
	// idle is closed when the last running job of this process ends (see
	// Wait); a new one is made when a job starts on an idle client.
	idle chan struct{}
	wg   sync.WaitGroup
	// compute lets one job at a time use the cores.
	compute chan struct{}
}

var _ sm.API = (*Client)(nil)

// DefaultRoot is where jobs live when Options.Root is empty.
func DefaultRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("local backend: no root given and no cache folder: %w", err)
	}
	return filepath.Join(dir, "reviewlens", "local"), nil
}

// New returns a Client on the root folder of opts.
func New(opts Options) (*Client, error) {
	if opts.Storage == nil {
		return nil, fmt.Errorf("local backend: no storage given")
	}
	if opts.Root == "" {
		root, err := DefaultRoot()
		if err != nil {
			return nil, err
		}
		opts.Root = root
	}
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	opts.Root = abs
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local backend: root %s: %w", abs, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	e := opts.Engine
	if e == nil {
		e = ConvNet{}
	}
	return &Client{opts: opts, st: store{root: abs}, log: log, engine: e,
		cancels: map[string]context.CancelFunc{}, compute: make(chan struct{}, 1), idle: closedChan()}, nil
}

// Root is the client's root folder.
func (c *Client) Root() string { return c.opts.Root }

// LogPath is the file a job's log is written to, line by line: kind is
// "training" or "transform".
func (c *Client) LogPath(kind, name string) string { return c.st.logPath(kind, name) }

// Close stops the jobs this client runs (they end Stopped) and waits for
// them.
func (c *Client) Close() error {
	c.mu.Lock()
	for _, cancel := range c.cancels {
		cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// Wait blocks until every job this client started has ended and recorded
// its final status, or ctx ends. Close stops them and waits.
func (c *Client) Wait(ctx context.Context) error {
	c.mu.Lock()
	idle := c.idle
	c.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

func (c *Client) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// arn makes a resource's ARN in the account and region moto uses too.
func arn(kind, name string) string {
	return "arn:aws:sagemaker:local:000000000000:" + kind + "/" + name
}

// launch claims a new job's running lock, writes its first record and
// starts it (see start).
func (c *Client) launch(kind, name string, rec any, job func(ctx context.Context) error) error {
	lock, err := c.st.claim(kind, name)
	if err != nil {
		return err
	}
	if err := c.st.write(kind, name, rec); err != nil {
		lock.release()
		return err
	}
	c.start(kind, name, lock, job)
	return nil
}

// update applies fn to a job's record of type R under the state lock and
// writes it back; a job with no record is not found.
func update[R any](c *Client, kind, name string, fn func(r *R)) (*R, error) {
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var r R
	ok, err := c.st.read(kind, name, &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound()
	}
	fn(&r)
	return &r, c.st.write(kind, name, &r)
}

// start runs job in a goroutine of this process, holding its running lock.
func (c *Client) start(kind, name string, lock *running, job func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	key := kind + "/" + name
	c.mu.Lock()
	if len(c.cancels) == 0 {
		c.idle = make(chan struct{})
	}
	c.cancels[key] = cancel
	c.mu.Unlock()
	c.wg.Add(2)
	go func() {
		// A stop asked by another process sharing the root shows in the
		// record only.
		defer c.wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				var st struct {
					StopRequested bool `json:"stop_requested"`
				}
				if ok, _ := c.st.read(kind, name, &st); ok && st.StopRequested {
					cancel()
					return
				}
			}
		}
	}()
	go func() {
		defer c.wg.Done()
		defer lock.release()
		defer func() {
			c.mu.Lock()
			delete(c.cancels, key)
			if len(c.cancels) == 0 {
				close(c.idle)
			}
			c.mu.Unlock()
			cancel()
		}()
		if err := job(ctx); err != nil {
			c.log.Warn("local job ended with an error", "job", name, "kind", kind, "err", err)
		}
	}()
}

// cancel stops a job this process runs; false when it runs elsewhere.
func (c *Client) cancel(kind, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cancel, ok := c.cancels[kind+"/"+name]
	if ok {
		cancel()
	}
	return ok
}

// The tuning job operations: not run here.

func (c *Client) CreateHyperParameterTuningJob(context.Context, *sagemaker.CreateHyperParameterTuningJobInput, ...func(*sagemaker.Options)) (*sagemaker.CreateHyperParameterTuningJobOutput, error) {
	return nil, notSupported("CreateHyperParameterTuningJob", "use the tuner's default strategy, one training job a grid point")
}

func (c *Client) DescribeHyperParameterTuningJob(context.Context, *sagemaker.DescribeHyperParameterTuningJobInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
	return nil, notSupported("DescribeHyperParameterTuningJob", "it runs no tuning job")
}

func (c *Client) StopHyperParameterTuningJob(context.Context, *sagemaker.StopHyperParameterTuningJobInput, ...func(*sagemaker.Options)) (*sagemaker.StopHyperParameterTuningJobOutput, error) {
	return nil, notSupported("StopHyperParameterTuningJob", "it runs no tuning job")
}

func (c *Client) ListTrainingJobsForHyperParameterTuningJob(context.Context, *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput, ...func(*sagemaker.Options)) (*sagemaker.ListTrainingJobsForHyperParameterTuningJobOutput, error) {
	return nil, notSupported("ListTrainingJobsForHyperParameterTuningJob", "it runs no tuning job")
}
