package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/reviewlens/reviewlens/storage"
)

// The same calls work for "s3://bucket/prefix/" and for a local directory.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	base := dir + "/" // or "s3://my-bucket/run-1/"

	s := storage.New(storage.Options{})
	for _, name := range []string{"day/2024-01-02/b.jpg", "day/2024-01-01/a.jpg", "notes.txt"} {
		if err := s.WriteFile(ctx, storage.Join(base, name), []byte(name)); err != nil {
			log.Fatal(err)
		}
	}
	for o, err := range s.List(ctx, storage.Join(base, "day")+"/") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.TrimPrefix(o.URI, base), o.Size)
	}
	data, err := s.ReadFile(ctx, storage.Join(base, "notes.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output:
	// day/2024-01-01/a.jpg 20
	// day/2024-01-02/b.jpg 20
	// notes.txt
}
