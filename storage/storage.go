// Package storage reads and writes whole objects named by URI, so that
// every step of reviewlens takes its inputs from and leaves its outputs in
// S3 ("s3://bucket/key"), the local filesystem ("/data/x.jpg", "out/x.jpg",
// "file:///data/x.jpg") or any bucket a program opened, without caring
// which.
//
// A Storage is the one type callers use. Buckets are Go Cloud buckets
// (gocloud.dev/blob): a program passes the *blob.Bucket values it opened
// (s3blob, gcsblob, memblob in tests, …) in Options.Buckets, by the URI
// prefix they serve ("s3://photos"), and a Provider opens the others of a
// scheme on first use: package storage/s3 is the one for s3:// URIs, on
// an aws-sdk-go-v2 client with bounded waits. Local paths are files,
// written by this package itself (see Atomicity). This package imports no
// AWS code, so the domain packages that take a *Storage do not either.
//
// # URIs
//
// A bucket URI is a scheme ("s3"), "://", the bucket, a '/', and the key.
// The key is used verbatim: it is not URL-decoded, so "s3://b/a%20b" names
// the key "a%20b", and keys may hold spaces, '+', '%' and any UTF-8 (see
// [ParseS3]). Anything without a scheme is a local path, absolute or
// relative to the working directory; "file://" followed by an absolute
// path is accepted too (also verbatim, without percent-decoding). Other
// schemes are an error unless a bucket or a provider serves them.
//
// [Storage.List] follows S3's prefix semantics on both: a prefix is a plain
// string, so "s3://b/in/2024-01-01" also matches "s3://b/in/2024-01-01-extra/x".
// End a prefix with "/" to list one "directory".
//
// # Atomicity
//
// [Storage.Put] and the calls built on it never let a reader see a partly
// written object: locally through a temporary file that is synced and
// renamed (Go Cloud's fileblob neither syncs nor keeps its temporary files
// out of listings, which is why local paths are not a fileblob), in a
// bucket because an object appears only when its writer closes.
//
// # Errors
//
// Errors name the operation and the URI ("open s3://b/k: ..."). Every
// "not found" — a missing file, a bucket's NotFound (S3's NoSuchKey or a
// 404 from HeadObject) — satisfies errors.Is(err, [ErrNotExist]).
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

	"gocloud.dev/blob"
)

// ErrNotExist is satisfied (via errors.Is) by every error that reports a
// missing object or file. It is fs.ErrNotExist, so errors.Is(err,
// fs.ErrNotExist) works as well.
var ErrNotExist = fs.ErrNotExist

// Options configure a Storage. The zero value serves local paths only.
type Options struct {
	// Buckets are buckets the program opened, by the URI prefix each
	// serves: "s3://photos" makes "s3://photos/a/b.jpg" the key "a/b.jpg"
	// of that bucket. A Storage does not close them.
	Buckets map[string]*blob.Bucket

	// Folders serve bucket URI prefixes from local folders: "s3://demo" →
	// "/data/demo" makes "s3://demo/a/b.jpg" the file /data/demo/a/b.jpg,
	// written atomically like any local file. For a run on one machine
	// that uses the same s3:// URIs as production (the local backend).
	Folders map[string]string

	// Schemes open the buckets of a scheme ("s3") that Buckets does not
	// hold, on first use; a Storage closes what they open when it is
	// closed. storage/s3 provides the one for S3.
	Schemes map[string]Provider

	// Logger receives debug and warning records. Nil means slog.Default().
	Logger *slog.Logger
}

// A Provider opens the buckets of one URI scheme by name.
type Provider interface {
	OpenBucket(ctx context.Context, name string) (*blob.Bucket, error)
}

// A ServerCopier is a Provider that copies objects between two of its
// buckets without the bytes passing through this process (S3's
// CopyObject). Storage.Copy uses it when it can.
type ServerCopier interface {
	CopyObject(ctx context.Context, dstBucket, dstKey, srcBucket, srcKey string) error
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
	_ bucket = (*blobBucket)(nil)
	_ bucket = localBucket{}
)

// Storage reads and writes objects named by URI. It is safe for concurrent
// use. Create one with New, share it, and Close it when done.
type Storage struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	opened map[string]*blobBucket // "scheme://name" -> a bucket a Provider opened
}

// New returns a Storage. It does no I/O: buckets are opened on first use.
func New(opts Options) *Storage {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Storage{opts: opts, log: log, opened: map[string]*blobBucket{}}
}

// Close closes the buckets the Storage's providers opened (not those of
// Options.Buckets, which are the caller's).
func (s *Storage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for k, b := range s.opened {
		errs = append(errs, b.b.Close())
		delete(s.opened, k)
	}
	return errors.Join(errs...)
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

// ListURIs yields the URI of every object whose URI starts with prefix,
// as List does: for code that needs no more than the names (it makes a
// Storage a sagemaker.Files).
func (s *Storage) ListURIs(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for o, err := range s.List(ctx, prefix) {
			if !yield(o.URI, err) || err != nil {
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
	if from, ok := sb.(*blobBucket); ok {
		if to, ok := db.(*blobBucket); ok {
			if done, err := to.copyFrom(ctx, dkey, from, skey); done || err != nil {
				if err != nil {
					return fmt.Errorf("copy %s to %s: %w", src, dst, err)
				}
				return nil
			}
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
	if b, key, ok := s.mounted(uri); ok {
		if key == "" && !prefix {
			return nil, "", errors.New("no object key after the bucket")
		}
		return b, key, nil
	}
	switch {
	case strings.HasPrefix(uri, fileScheme):
		path := strings.TrimPrefix(uri, fileScheme)
		if !strings.HasPrefix(path, "/") {
			return nil, "", errors.New(`a file URI needs an absolute path ("file:///dir/name")`)
		}
		return localBucket{scheme: fileScheme}, path, nil
	case hasScheme(uri):
		scheme, rest, _ := strings.Cut(uri, "://")
		name, key, _ := strings.Cut(rest, "/")
		if name == "" {
			return nil, "", errors.New("empty bucket name")
		}
		if key == "" && !prefix {
			return nil, "", errors.New("no object key after the bucket name")
		}
		b, err := s.provided(ctx, scheme, name)
		if err != nil {
			return nil, "", err
		}
		return b, key, nil
	case uri == "" && !prefix:
		return nil, "", errors.New("empty path")
	}
	return localBucket{}, uri, nil
}

// mounted finds the bucket of Options.Buckets that serves uri: the one
// whose prefix ("s3://photos") is uri's bucket.
func (s *Storage) mounted(uri string) (bucket, string, bool) {
	if len(s.opts.Buckets) == 0 && len(s.opts.Folders) == 0 {
		return nil, "", false
	}
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return nil, "", false
	}
	name, key, _ := strings.Cut(rest, "/")
	root := scheme + "://" + name
	for _, r := range []string{root, root + "/"} {
		if dir, ok := s.opts.Folders[r]; ok {
			abs, err := filepath.Abs(dir)
			if err != nil {
				abs = filepath.Clean(dir)
			}
			return folderBucket{dir: abs, root: root + "/"}, key, true
		}
	}
	b, ok := s.opts.Buckets[root]
	if !ok {
		b, ok = s.opts.Buckets[root+"/"]
	}
	if !ok {
		return nil, "", false
	}
	return &blobBucket{b: b, root: root + "/"}, key, true
}

// provided returns the bucket name of scheme, opened by its provider on
// first use.
func (s *Storage) provided(ctx context.Context, scheme, name string) (bucket, error) {
	root := scheme + "://" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.opened[root]; ok {
		return b, nil
	}
	p, ok := s.opts.Schemes[scheme]
	if !ok {
		if scheme == "s3" {
			return nil, errors.New("no S3 access configured (storage.Options.Schemes[\"s3\"], from package storage/s3)")
		}
		return nil, fmt.Errorf("unsupported scheme %q (want s3://, file:// or a local path)", scheme+"://")
	}
	bb, err := p.OpenBucket(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", root, err)
	}
	b := &blobBucket{b: bb, root: root + "/", provider: p, name: name}
	s.opened[root] = b
	return b, nil
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
