package storage

// Inputs and outputs of steps, with one rule each, so that the same
// mistake gets the same message whichever step it is made on:
//
//   - an input that does not exist is "no such file";
//   - a folder where a file is wanted is "is a directory", unless the
//     step takes a folder there and finds its file in it;
//   - a file that should be Parquet and is not is "not a Parquet file",
//     told by its magic bytes whatever its name;
//   - an output folder that is a file, or an output file that is a
//     folder, is refused before any work is done.
//
// These are fault.BadInput errors naming the input and the URI; other
// errors (the network, access) pass through.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
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
	if IsS3(uri) {
		return "", false
	}
	return strings.TrimPrefix(uri, "file://"), true
}

// Locate finds the file an input names. flag is how the caller names the
// input in messages (a command passes its flag, "--reviews"). uri may name the file, or,
// when folderFile is not empty, a folder holding a file of that name (the
// output folder of an earlier step). It returns the file's URI.
func (store *Storage) Locate(ctx context.Context, flag, uri, folderFile string) (string, error) {
	if uri == "" {
		return "", fault.BadInputf("%s: no file given", flag)
	}
	if p, ok := localPath(uri); ok {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fault.BadInputf("%s %s: no such file", flag, clip.S(uri))
		case errors.Is(err, fs.ErrPermission):
			return "", fault.BadInputf("%s %s: permission denied", flag, clip.S(uri))
		case err != nil:
			return "", fault.BadInputf("%s %s: %v", flag, clip.S(uri), err)
		case !fi.IsDir():
			return uri, nil
		case folderFile == "":
			return "", fault.BadInputf("%s %s: is a directory, want a file", flag, clip.S(uri))
		}
		file := Join(uri, folderFile)
		fi, err = os.Stat(strings.TrimPrefix(file, "file://"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fault.BadInputf("%s %s: is a directory with no %s in it", flag, clip.S(uri), folderFile)
		case err != nil:
			return "", fault.BadInputf("%s %s: %v", flag, clip.S(file), err)
		case fi.IsDir():
			return "", fault.BadInputf("%s %s: is a directory, want a file", flag, clip.S(file))
		}
		return file, nil
	}
	if !strings.HasSuffix(uri, "/") {
		_, err := store.Stat(ctx, uri)
		switch {
		case err == nil:
			return uri, nil
		case !errors.Is(err, ErrNotExist):
			return "", fmt.Errorf("%s %s: %w", flag, clip.S(uri), err)
		case folderFile == "":
			return "", fault.BadInputf("%s %s: no such object", flag, clip.S(uri))
		}
	} else if folderFile == "" {
		return "", fault.BadInputf("%s %s: a folder, want a file", flag, clip.S(uri))
	}
	file := Join(uri, folderFile)
	_, err := store.Stat(ctx, file)
	switch {
	case err == nil:
		return file, nil
	case errors.Is(err, ErrNotExist):
		return "", fault.BadInputf("%s %s: no such object, nor %s", flag, clip.S(uri), clip.S(file))
	}
	return "", fmt.Errorf("%s %s: %w", flag, clip.S(file), err)
}

// ReadInput reads the whole file an input names (see Locate).
func (store *Storage) ReadInput(ctx context.Context, flag, uri, folderFile string) ([]byte, string, error) {
	file, err := store.Locate(ctx, flag, uri, folderFile)
	if err != nil {
		return nil, "", err
	}
	data, err := store.ReadFile(ctx, file)
	if errors.Is(err, ErrNotExist) {
		return nil, "", fault.BadInputf("%s %s: no such file (gone since it was found)", flag, clip.S(file))
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", flag, err)
	}
	return data, file, nil
}

// ReadParquetInput reads the Parquet file an input names (see Locate) and
// refuses one that is not Parquet; what names what the step wants there,
// for the message ("the stage step's staged.parquet").
func (store *Storage) ReadParquetInput(ctx context.Context, flag, uri, folderFile, what string) ([]byte, string, error) {
	data, file, err := store.ReadInput(ctx, flag, uri, folderFile)
	if err != nil {
		return nil, "", err
	}
	if !IsParquet(data) {
		return nil, "", fault.BadInputf("%s %s: not a Parquet file (%s), want %s", flag, clip.S(file), Describe(data), what)
	}
	return data, file, nil
}

// Describe says in a few words what a file that is not Parquet holds.
func Describe(data []byte) string {
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

// CheckOutFolder checks an output folder flag before any work: a local path
// that is a file is exit 2.
func CheckOutFolder(flag, uri string) error {
	if uri == "" {
		return fault.BadInputf("%s: no output folder given", flag)
	}
	p, ok := localPath(uri)
	if !ok {
		return nil
	}
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return fault.BadInputf("%s %s: is a file, want a folder", flag, clip.S(uri))
	}
	return parentNotFile(flag, uri, p)
}

// CheckOutFile checks an output file flag before any work: a local path that is
// a folder, or under a file, is exit 2.
func CheckOutFile(flag, uri string) error {
	if uri == "" {
		return fault.BadInputf("%s: no output file given", flag)
	}
	if strings.HasSuffix(uri, "/") {
		return fault.BadInputf("%s %s: ends in '/', want a file", flag, clip.S(uri))
	}
	p, ok := localPath(uri)
	if !ok {
		return nil
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return fault.BadInputf("%s %s: is a directory, want a file", flag, clip.S(uri))
	}
	return parentNotFile(flag, uri, path.Dir(p))
}

// parentNotFile refuses a local path below an existing file.
func parentNotFile(flag, uri, p string) error {
	for dir := p; dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fault.BadInputf("%s %s: %s is a file, not a folder", flag, clip.S(uri), clip.S(dir))
			}
			return nil
		}
	}
	return nil
}
