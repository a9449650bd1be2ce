package inspect_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/reviewlens/reviewlens/inspect"
)

// The stage step's core: read the day's reviews, find the prefix the photos
// share, and list them for a Batch Transform job relative to it.
func Example() {
	const reviewsCSV = `review_id,review_type,image_uri,image_index,user_id,product_id,created_at
r1,product,s3://photos/2026/11/28/r1-0.jpg,0,u1,p1,2026-11-28T09:30:00Z
r2,style,s3://photos/2026/11/28/r2-0.png,0,u2,p2,
r3,video,s3://photos/2026/11/28/r3-0.mp4,0,u3,p3,
`
	reviews, bad, err := inspect.ReadReviewsCSV(strings.NewReader(reviewsCSV), "reviews.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range bad {
		fmt.Println(e)
	}
	var uris []string
	for _, r := range reviews {
		uris = append(uris, r.ImageURI)
	}
	prefix, ok := inspect.CommonPrefix(uris)
	if !ok {
		fmt.Println("no common prefix: copy the photos first")
		return
	}
	var keys []string
	for _, u := range uris {
		keys = append(keys, strings.TrimPrefix(u, prefix))
	}
	if err := inspect.WriteTransformManifest(os.Stdout, prefix, keys); err != nil {
		fmt.Println(err)
	}
	// Output:
	// reviews.csv: row 3: review_type: got "video", want product or style
	// [{"prefix":"s3://photos/2026/11/28/"},
	// "r1-0.jpg",
	// "r2-0.png"]
}
