// Package stepio is how every step reads its inputs and checks its outputs,
// with one rule each, so that the same mistake gets the same message and
// exit code whichever step it is made on:
//
//   - an input that does not exist is "no such file" (exit 2);
//   - a folder where a file is wanted is "is a directory" (exit 2), unless
//     the step takes a folder there and finds its file in it;
//   - a file that should be Parquet and is not is "not a Parquet file"
//     (exit 2), told by its magic bytes whatever its name;
//   - a reviews file is Parquet when its bytes say so, and CSV otherwise;
//   - an output folder that is a file, or an output file that is a folder,
//     is exit 2 before any work is done.
//
// Errors name the flag and the URI. Other errors (the network, access)
// pass through with their own exit codes.
package stepio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// parquetMagic starts and ends every Parquet file.
var parquetMagic = []byte("PAR1")

// IsParquet reports whether data is laid out as a Parquet file: the magic
// bytes at both ends. A truncated Parquet file fails it.
func IsParquet(data []byte) bool {
	return len(data) >= 8 && bytes.HasPrefix(data, parquetMagic) && bytes.HasSuffix(data, parquetMagic)
}

// localPath returns the path of a local URI, and whether it is one.
func localPath(uri string) (string, bool) {
	if storage.IsS3(uri) {
		return "", false
	}
	return strings.TrimPrefix(uri, "file://"), true
}

// Resolve finds the file an input flag names. uri may name the file, or,
// when folderFile is not empty, a folder holding a file of that name (the
// output folder of an earlier step). It returns the file's URI.
func Resolve(ctx context.Context, store *storage.Storage, flag, uri, folderFile string) (string, error) {
	if uri == "" {
		return "", cli.BadInputf("%s: no file given", flag)
	}
	if p, ok := localPath(uri); ok {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", cli.BadInputf("%s %s: no such file", flag, clip.S(uri))
		case errors.Is(err, fs.ErrPermission):
			return "", cli.BadInputf("%s %s: permission denied", flag, clip.S(uri))
		case err != nil:
			return "", cli.BadInputf("%s %s: %v", flag, clip.S(uri), err)
		case !fi.IsDir():
			return uri, nil
		case folderFile == "":
			return "", cli.BadInputf("%s %s: is a directory, want a file", flag, clip.S(uri))
		}
		file := storage.Join(uri, folderFile)
		fi, err = os.Stat(strings.TrimPrefix(file, "file://"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", cli.BadInputf("%s %s: is a directory with no %s in it", flag, clip.S(uri), folderFile)
		case err != nil:
			return "", cli.BadInputf("%s %s: %v", flag, clip.S(file), err)
		case fi.IsDir():
			return "", cli.BadInputf("%s %s: is a directory, want a file", flag, clip.S(file))
		}
		return file, nil
	}
	if !strings.HasSuffix(uri, "/") {
		_, err := store.Stat(ctx, uri)
		switch {
		case err == nil:
			return uri, nil
		case !errors.Is(err, storage.ErrNotExist):
			return "", fmt.Errorf("%s %s: %w", flag, clip.S(uri), err)
		case folderFile == "":
			return "", cli.BadInputf("%s %s: no such object", flag, clip.S(uri))
		}
	} else if folderFile == "" {
		return "", cli.BadInputf("%s %s: a folder, want a file", flag, clip.S(uri))
	}
	file := storage.Join(uri, folderFile)
	_, err := store.Stat(ctx, file)
	switch {
	case err == nil:
		return file, nil
	case errors.Is(err, storage.ErrNotExist):
		return "", cli.BadInputf("%s %s: no such object, nor %s", flag, clip.S(uri), clip.S(file))
	}
	return "", fmt.Errorf("%s %s: %w", flag, clip.S(file), err)
}

// ReadFile reads the whole file an input flag names (see Resolve).
func ReadFile(ctx context.Context, store *storage.Storage, flag, uri, folderFile string) ([]byte, string, error) {
	file, err := Resolve(ctx, store, flag, uri, folderFile)
	if err != nil {
		return nil, "", err
	}
	data, err := store.ReadFile(ctx, file)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, "", cli.BadInputf("%s %s: no such file (gone since it was found)", flag, clip.S(file))
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", flag, err)
	}
	return data, file, nil
}

// ReadParquet reads the Parquet file an input flag names (see Resolve) and
// refuses one that is not Parquet; what names what the step wants there,
// for the message ("the stage step's staged.parquet").
func ReadParquet(ctx context.Context, store *storage.Storage, flag, uri, folderFile, what string) ([]byte, string, error) {
	data, file, err := ReadFile(ctx, store, flag, uri, folderFile)
	if err != nil {
		return nil, "", err
	}
	if !IsParquet(data) {
		return nil, "", cli.BadInputf("%s %s: not a Parquet file (%s), want %s", flag, clip.S(file), describe(data), what)
	}
	return data, file, nil
}

// describe says in a few words what a file that is not Parquet holds.
func describe(data []byte) string {
	switch {
	case len(data) == 0:
		return "empty"
	case bytes.HasPrefix(data, parquetMagic):
		return fmt.Sprintf("%d bytes starting like Parquet but cut short", len(data))
	}
	head := bytes.TrimSpace(data[:min(len(data), 64)])
	switch {
	case len(head) > 0 && (head[0] == '{' || head[0] == '['):
		return "JSON"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")), bytes.HasPrefix(data, []byte("\x89PNG")):
		return "an image"
	case bytes.IndexByte(data[:min(len(data), 512)], 0) < 0:
		return "text"
	}
	return fmt.Sprintf("%d bytes of something else", len(data))
}

// ReadReviews reads the day's reviews an input flag names: Parquet when
// the file's bytes are Parquet, CSV otherwise (a file named .parquet that
// is not Parquet is refused rather than read as CSV). It returns the
// valid rows and the bad ones, as inspect's readers do; a file that
// cannot be read as reviews at all is exit 2.
func ReadReviews(ctx context.Context, store *storage.Storage, flag, uri string) ([]inspect.Review, []*inspect.RowError, error) {
	data, file, err := ReadFile(ctx, store, flag, uri, "")
	if err != nil {
		return nil, nil, err
	}
	var reviews []inspect.Review
	var bad []*inspect.RowError
	switch {
	case IsParquet(data):
		reviews, bad, err = inspect.ReadReviewsParquet(bytes.NewReader(data), file)
	case strings.EqualFold(path.Ext(file), ".parquet"):
		return nil, nil, cli.BadInputf("%s %s: not a Parquet file (%s), want the day's reviews", flag, clip.S(file), describe(data))
	default:
		reviews, bad, err = inspect.ReadReviewsCSV(bytes.NewReader(data), file)
	}
	if err != nil {
		return nil, nil, cli.BadInput(fmt.Errorf("%s: %w", flag, err))
	}
	return reviews, bad, nil
}

// ReadClasses reads a class list flag: a file (a Ground Truth
// label-category config or a JSON list of names, as manifest.ReadClasses
// reads), or, when lists is set, the names themselves separated by commas
// ("product,packaging"). A value is a list only when it holds a comma and
// no '/': anything else is a file, so a path with a typo is "no such
// file", not a one-class list.
func ReadClasses(ctx context.Context, store *storage.Storage, flag, v string, lists bool) (*manifest.ClassMap, error) {
	if lists && strings.Contains(v, ",") && !strings.Contains(v, "/") {
		m, err := manifest.ParseClassList(v)
		if err != nil {
			return nil, cli.BadInputf("%s %s: as a list of class names: %v", flag, clip.Q(v), err)
		}
		return m, nil
	}
	data, file, err := ReadFile(ctx, store, flag, v, "")
	if err != nil {
		return nil, err
	}
	m, err := manifest.ReadClasses(bytes.NewReader(data))
	if err != nil {
		return nil, cli.BadInputf("%s %s: not a class list (%s): %v", flag, clip.S(file), describe(data), err)
	}
	return m, nil
}

// OutFolder checks an output folder flag before any work: a local path
// that is a file is exit 2.
func OutFolder(flag, uri string) error {
	if uri == "" {
		return cli.BadInputf("%s: no output folder given", flag)
	}
	p, ok := localPath(uri)
	if !ok {
		return nil
	}
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return cli.BadInputf("%s %s: is a file, want a folder", flag, clip.S(uri))
	}
	return parentNotFile(flag, uri, p)
}

// OutFile checks an output file flag before any work: a local path that is
// a folder, or under a file, is exit 2.
func OutFile(flag, uri string) error {
	if uri == "" {
		return cli.BadInputf("%s: no output file given", flag)
	}
	if strings.HasSuffix(uri, "/") {
		return cli.BadInputf("%s %s: ends in '/', want a file", flag, clip.S(uri))
	}
	p, ok := localPath(uri)
	if !ok {
		return nil
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return cli.BadInputf("%s %s: is a directory, want a file", flag, clip.S(uri))
	}
	return parentNotFile(flag, uri, path.Dir(p))
}

// parentNotFile refuses a local path below an existing file.
func parentNotFile(flag, uri, p string) error {
	for dir := p; dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return cli.BadInputf("%s %s: %s is a file, not a folder", flag, clip.S(uri), clip.S(dir))
			}
			return nil
		}
	}
	return nil
}
