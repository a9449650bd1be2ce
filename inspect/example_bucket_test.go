package inspect_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/storage"
)

// A program runs the stage and predictions steps on a bucket it opened
// itself, here an in-memory one serving s3://shop: any gocloud.dev/blob
// bucket will do (s3blob on the program's own AWS client, gcsblob, …).
func ExampleStage() {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	store := storage.New(storage.Options{Buckets: map[string]*blob.Bucket{"s3://shop": bucket}})
	defer store.Close()
	quiet := slog.New(slog.DiscardHandler)

	jpeg := []byte("\xff\xd8\xff\xe0 a JPEG photo")
	must(store.WriteFile(ctx, "s3://shop/photos/r-1/0.jpg", jpeg))
	must(store.WriteFile(ctx, "s3://shop/photos/r-2/0.jpg", jpeg))
	must(store.WriteFile(ctx, "s3://shop/reviews.csv", []byte("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n"+
		"r-1,product,s3://shop/photos/r-1/0.jpg,0,u1,p1,2026-11-28T10:00:00Z\n"+
		"r-2,style,s3://shop/photos/r-2/0.jpg,0,u2,p2,2026-11-28T11:00:00Z\n")))
	staged, err := inspect.Stage(ctx, store, inspect.StageOptions{Reviews: "s3://shop/reviews.csv", Day: "2026-11-28", Out: "s3://shop/staged/", Logger: quiet})
	must(err)
	fmt.Println("staged:", staged.Staged, "photos under", staged.ManifestPrefix)

	// What a Batch Transform job leaves: <key>.out beside each photo's key.
	must(store.WriteFile(ctx, "s3://shop/outputs/r-1/0.jpg.out", []byte(`{"prediction": [0.02, 0.95, 0.02, 0.01]}`)))
	must(store.WriteFile(ctx, "s3://shop/outputs/r-2/0.jpg.out", []byte(`{"prediction": [0.01, 0.01, 0.97, 0.01]}`)))
	must(store.WriteFile(ctx, "s3://shop/classes.json", []byte(`{"labels": [{"label": "package"}, {"label": "product"}, {"label": "full-length"}, {"label": "half-length"}]}`)))
	preds, err := inspect.CollectPredictions(ctx, store, inspect.CollectOptions{
		Staged: "s3://shop/staged/", Outputs: "s3://shop/outputs/", Classes: "s3://shop/classes.json", Out: "s3://shop/predictions/", Logger: quiet,
	})
	must(err)
	fmt.Println("predictions:", preds.ByStatus, preds.ByClass)
	// Output:
	// staged: 2 photos under s3://shop/photos/
	// predictions: map[ok:2] map[full-length:1 product:1]
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
