// Package storage reads and writes whole objects named by URI, so that every
// step of reviewlens can take its inputs from and leave its outputs in either
// S3 ("s3://bucket/key") or the local filesystem ("/data/x.jpg", "out/x.jpg",
// or "file:///data/x.jpg") without caring which.
//
// A Storage is the one type callers use. It dispatches each URI to a small
// internal bucket interface with two implementations: the local filesystem
// and S3 through aws-sdk-go-v2. The S3 client is created on first use, so
// commands that only touch local paths need no AWS configuration.
//
// # URIs
//
// An S3 URI is "s3://" followed by the bucket, a '/', and the key. The key is
// used verbatim: it is not URL-decoded, so "s3://b/a%20b" names the key
// "a%20b", and keys may hold spaces, '+', '%' and any UTF-8 (see [ParseS3]).
// Anything without a scheme is a local path, absolute or relative to the
// working directory; "file://" followed by an absolute path is accepted too
// (also verbatim, without percent-decoding). Other schemes are an error.
//
// [Storage.List] follows S3's prefix semantics on both: a prefix is a plain string,
// so "s3://b/in/2024-01-01" also matches "s3://b/in/2024-01-01-extra/x".
// End a prefix with "/" to list one "directory".
//
// # Atomicity
//
// [Storage.Put] and the calls built on it never let a reader see a partly
// written object: locally through a temporary file and rename, on S3 because
// an object appears only when its upload completes (see [Storage.Put]).
//
// # Errors
//
// Errors name the operation and the URI ("open s3://b/k: ..."). Every
// "not found" — a missing file, S3's NoSuchKey, or a 404 from HeadObject —
// satisfies errors.Is(err, [ErrNotExist]).
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is satisfied (via errors.Is) by every error that reports a
// missing object or file. It is fs.ErrNotExist, so errors.Is(err,
// fs.ErrNotExist) works as well.
var ErrNotExist = fs.ErrNotExist

// Options configure a Storage. The zero value uses the standard AWS
// configuration chain and slog.Default().
type Options struct {
	// Region overrides the AWS region. Empty means the standard AWS config
	// chain (AWS_REGION, else the profile's region in ~/.aws/config).
	Region string

	// EndpointURL overrides the S3 endpoint, e.g. "http://127.0.0.1:5055" for
	// moto_server. When set, S3 is addressed path-style
	// ("http://host/bucket/key"), which moto and most S3 look-alikes need.
	// Empty means the AWS default endpoint.
	EndpointURL string

	// Logger receives debug and warning records. Nil means slog.Default().
	Logger *slog.Logger

	// IOTimeout bounds each wait of an S3 call for the network (a
	// connection, the next bytes of a response); 0 means 20 s. A call
	// that stalls is retried by the SDK's retryer, then fails with a
	// timeout error.
	IOTimeout time.Duration
}

// Object describes a stored object.
type Object struct {
	URI     string    // full URI of the object, in the form it was asked for (s3://b/k or a local path)
	Size    int64     // bytes
	ModTime time.Time // last modification
	ETag    string    // S3 entity tag, quotes included; empty for local files
}

// bucket is what Storage needs from one storage system. Keys are what
// follows the bucket in a URI: an S3 object key, or a local path.
// Implementations return errors without the operation and URI (Storage adds
// them) and wrap "not found" so that errors.Is(err, ErrNotExist) holds.
type bucket interface {
	open(ctx context.Context, key string) (io.ReadCloser, error)
	put(ctx context.Context, key string, r io.Reader) error
	stat(ctx context.Context, key string) (Object, error)
	list(ctx context.Context, prefix string) iter.Seq2[Object, error]
	delete(ctx context.Context, key string) error
}

var (
	_ bucket = (*s3Bucket)(nil)
	_ bucket = localBucket{}
)

// Storage reads and writes objects named by URI. It is safe for concurrent
// use. Create one with New and share it.
type Storage struct {
	opts Options
	log  *slog.Logger

	mu sync.Mutex
	s3 *s3Client // nil until the first s3:// URI; see s3Bucket
}

// New returns a Storage. It does no I/O: the S3 client is built on the first
// s3:// call, from config.LoadDefaultConfig and opts.
func New(opts Options) *Storage {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Storage{opts: opts, log: log}
}

// Open opens the object at uri for reading. The caller must close it.
func (s *Storage) Open(ctx context.Context, uri string) (io.ReadCloser, error) {
	b, key, err := s.resolve(ctx, uri, false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", uri, err)
	}
	rc, err := b.open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", uri, err)
	}
	return rc, nil
}

// ReadFile returns the whole object at uri.
func (s *Storage) ReadFile(ctx context.Context, uri string) ([]byte, error) {
	rc, err := s.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", uri, err)
	}
	return data, nil
}

// Put writes everything read from r to uri, replacing any object there.
//
// Put is atomic: a reader sees the old object (or none) until Put has
// succeeded, and never a partial one. If r fails or ctx is cancelled, no new
// object appears.
//
// Locally, Put writes a temporary file in the destination directory (creating
// parent directories), syncs it and renames it over the destination. List
// skips these temporary files.
//
// On S3, Put uploads straight to the final key. S3 needs no temporary key:
// a PutObject, and a multipart upload, make the object visible only when
// they complete, and a failed or aborted upload leaves nothing behind.
// Writing a temporary key and then "moving" it would be worse, not safer: S3
// has no rename, so a move is CopyObject plus DeleteObject, which is neither
// atomic (the temp key can be left behind, and readers of a prefix see it)
// nor cheap (the copy rewrites every byte, and needs a multipart copy above
// 5 GiB). Streams of 5 MiB or more are sent as a multipart upload with
// bounded memory (about six 5 MiB part buffers when the length is unknown,
// which caps such a stream at 10,000 parts, some 48 GiB); on error or
// cancellation the upload is aborted.
func (s *Storage) Put(ctx context.Context, uri string, r io.Reader) error {
	b, key, err := s.resolve(ctx, uri, false)
	if err != nil {
		return fmt.Errorf("put %s: %w", uri, err)
	}
	if err := b.put(ctx, key, r); err != nil {
		return fmt.Errorf("put %s: %w", uri, err)
	}
	return nil
}

// WriteFile writes data to uri atomically, like Put.
func (s *Storage) WriteFile(ctx context.Context, uri string, data []byte) error {
	return s.Put(ctx, uri, bytes.NewReader(data))
}

// PutFile uploads (or, for a local uri, copies) the local file at localPath
// to uri, atomically like Put. Use it for large outputs spooled to a local
// file first: on S3 a file of known size is uploaded in parallel parts.
func (s *Storage) PutFile(ctx context.Context, uri, localPath string) error {
	f, err := os.Open(localPath)
	if err != nil {
		return fmt.Errorf("put %s: %w", uri, err)
	}
	defer f.Close()
	return s.Put(ctx, uri, f)
}

// Stat describes the object at uri without reading it (HeadObject on S3).
func (s *Storage) Stat(ctx context.Context, uri string) (Object, error) {
	b, key, err := s.resolve(ctx, uri, false)
	if err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", uri, err)
	}
	o, err := b.stat(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", uri, err)
	}
	return o, nil
}

// List yields every object whose URI starts with prefix. On S3 that is a
// ListObjectsV2 listing (in key order, fetched page by page as the loop
// runs). Locally it walks the directory holding the prefix, skips
// directories and Put's temporary files, and yields files sorted by URI.
// An error ends the sequence; it is yielded with a zero Object.
func (s *Storage) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		b, key, err := s.resolve(ctx, prefix, true)
		if err != nil {
			yield(Object{}, fmt.Errorf("list %s: %w", prefix, err))
			return
		}
		for o, err := range b.list(ctx, key) {
			if err != nil {
				yield(Object{}, fmt.Errorf("list %s: %w", prefix, err))
				return
			}
			if !yield(o, nil) {
				return
			}
		}
	}
}

// Copy copies the object at src to dst. Between two S3 URIs it is a
// server-side CopyObject (so no bytes pass through this process; S3 limits
// a single CopyObject to 5 GiB). Otherwise it streams src through Put, so it
// is atomic like Put.
func (s *Storage) Copy(ctx context.Context, dst, src string) error {
	sb, skey, err := s.resolve(ctx, src, false)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	db, dkey, err := s.resolve(ctx, dst, false)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if dst == src {
		// S3 refuses to copy an object onto itself unchanged; locally it
		// would rewrite the file for nothing. Only check that it exists.
		if _, err := sb.stat(ctx, skey); err != nil {
			return fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
		return nil
	}
	if from, ok := sb.(*s3Bucket); ok {
		if to, ok := db.(*s3Bucket); ok {
			if err := to.copyFrom(ctx, dkey, from, skey); err != nil {
				return fmt.Errorf("copy %s to %s: %w", src, dst, err)
			}
			return nil
		}
	}
	rc, err := sb.open(ctx, skey)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	defer rc.Close()
	if err := db.put(ctx, dkey, rc); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// Delete removes the object at uri. Deleting an object that does not exist
// is not an error, as with S3's DeleteObject. Locally, emptied parent
// directories are left in place.
func (s *Storage) Delete(ctx context.Context, uri string) error {
	b, key, err := s.resolve(ctx, uri, false)
	if err != nil {
		return fmt.Errorf("delete %s: %w", uri, err)
	}
	if err := b.delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", uri, err)
	}
	return nil
}

// resolve picks the bucket for uri and returns the key within it. A prefix
// (for List) may have an empty key; an object URI may not.
func (s *Storage) resolve(ctx context.Context, uri string, prefix bool) (bucket, string, error) {
	switch {
	case IsS3(uri):
		name, key, err := ParseS3(uri)
		if err != nil {
			return nil, "", err
		}
		if key == "" && !prefix {
			return nil, "", errors.New("no object key after the bucket name")
		}
		c, err := s.client(ctx)
		if err != nil {
			return nil, "", err
		}
		return &s3Bucket{c: c, name: name}, key, nil
	case strings.HasPrefix(uri, fileScheme):
		path := strings.TrimPrefix(uri, fileScheme)
		if !strings.HasPrefix(path, "/") {
			return nil, "", errors.New(`a file URI needs an absolute path ("file:///dir/name")`)
		}
		return localBucket{scheme: fileScheme}, path, nil
	case hasScheme(uri):
		return nil, "", errors.New("unsupported scheme (want s3://, file:// or a local path)")
	case uri == "" && !prefix:
		return nil, "", errors.New("empty path")
	}
	return localBucket{}, uri, nil
}

const (
	s3Scheme   = "s3://"
	fileScheme = "file://"
)

// IsS3 reports whether uri names an S3 object or prefix ("s3://...").
func IsS3(uri string) bool {
	return strings.HasPrefix(uri, s3Scheme)
}

// ParseS3 splits an S3 URI into bucket and key at the first '/' after
// "s3://". The key is kept verbatim (no URL decoding) and may be empty
// ("s3://b" and "s3://b/" both give key ""). It fails if uri does not start
// with "s3://" or the bucket is empty.
func ParseS3(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, s3Scheme)
	if !ok {
		return "", "", fmt.Errorf("parse %q: not an s3:// URI", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("parse %q: empty bucket name", uri)
	}
	return bucket, key, nil
}

// Join appends path elements to base. For S3 (and file://) URIs the elements
// are joined with exactly one '/' between them and nothing else is changed:
// keys may legitimately hold "//" or "..", so Join does not clean them, and a
// trailing '/' on the last element is kept (useful for List prefixes).
// Empty elements are skipped. A local base is joined with filepath.Join,
// which cleans the result.
//
//	Join("s3://b/p/", "x", "y.jpg") == "s3://b/p/x/y.jpg"
//	Join("out", "x", "y.jpg")       == "out/x/y.jpg"
func Join(base string, elem ...string) string {
	if IsS3(base) {
		return joinSlash(base, elem)
	}
	if path, ok := strings.CutPrefix(base, fileScheme); ok {
		return fileScheme + filepath.Join(append([]string{path}, elem...)...)
	}
	return filepath.Join(append([]string{base}, elem...)...)
}

func joinSlash(base string, elem []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, e := range elem {
		if e == "" {
			continue
		}
		if !strings.HasSuffix(b.String(), "/") {
			b.WriteByte('/')
		}
		b.WriteString(strings.TrimLeft(e, "/"))
	}
	return b.String()
}

// hasScheme reports whether uri starts with "scheme://" (RFC 3986 scheme
// characters), so that "gs://b/k" is refused rather than read as a relative
// local path.
func hasScheme(uri string) bool {
	scheme, _, ok := strings.Cut(uri, "://")
	if !ok || scheme == "" {
		return false
	}
	for i, c := range scheme {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
