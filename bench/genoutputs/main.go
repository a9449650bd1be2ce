// Command genoutputs writes one synthetic inspection day to an S3 endpoint,
// as the predictions step finds it after a Batch Transform job: the job's
// outputs, the stage step's staged table and the class map. Deterministic
// for a given seed.
//
//	go run ./bench/genoutputs -endpoint http://127.0.0.1:PORT -bucket bench -n 20000
//
// It creates the bucket (an existing one is fine) and writes, for -day D:
//
//	s3://B/transform/dt=D/r-XXXXXX/0.jpg.out   one per photo, ~65 bytes:
//	                                           {"prediction": [p0, ..., pK-1]}
//	s3://B/staged/dt=D/staged.parquet          n rows (inspect.WriteStaged)
//	s3://B/labels/classes.json                 the class map
//
// Probabilities have six decimals and sum to exactly 1; nine photos in ten
// have one confident class. -missing photos get no output at all and
// -invalid get a malformed one (cycling through: not JSON, truncated JSON,
// one class too few, no "prediction", an empty object, then a probability
// out of range and probabilities not summing to 1), so that the step's
// paths for an incomplete day run too. Which photos they are is logged.
//
// Requests are signed with static credentials test/test in us-east-1,
// path-style, with the SDK's default checksums. Unless -no-delay=false,
// they carry "X-Bench-No-Delay: 1", which bench/s3latency honours for PUTs:
// the bucket fills without waiting its delay.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/inspect"
)

// classNames are the labels of the Ground Truth labeling job; -classes
// beyond them are named class-5, class-6 and so on.
var classNames = []string{"product", "packaging", "full-length", "half-length", "other"}

// noDelayHeader asks bench/s3latency to serve a PUT without its delay.
const noDelayHeader = "X-Bench-No-Delay"

type config struct {
	endpoint, bucket, day string
	n, classes            int
	missing, invalid      int
	seed                  uint64
	concurrency           int
	noDelay               bool
}

func main() {
	var c config
	flag.StringVar(&c.endpoint, "endpoint", "", "S3 endpoint URL (required), e.g. http://127.0.0.1:PORT")
	flag.StringVar(&c.bucket, "bucket", "bench", "bucket to create and fill")
	flag.StringVar(&c.day, "day", "2026-11-28", "inspection day (dt=) of the keys")
	flag.IntVar(&c.n, "n", 20000, "photos")
	flag.IntVar(&c.classes, "classes", len(classNames), "classes in each prediction")
	flag.IntVar(&c.missing, "missing", 10, "photos without an output")
	flag.IntVar(&c.invalid, "invalid", 5, "photos with a malformed output")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.IntVar(&c.concurrency, "concurrency", 128, "PUTs in flight")
	flag.BoolVar(&c.noDelay, "no-delay", true, "send "+noDelayHeader+": 1 with every request")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("genoutputs: ")
	switch {
	case c.endpoint == "":
		log.Fatal("-endpoint is required")
	case c.n < 1 || c.n > 1_000_000:
		log.Fatal("-n must be from 1 to 1000000 (keys have six digits)")
	case c.classes < 2:
		log.Fatal("-classes must be at least 2")
	case c.missing < 0 || c.invalid < 0 || c.missing+c.invalid > c.n:
		log.Fatal("-missing and -invalid must be at least 0 and add up to at most -n")
	case c.concurrency < 1:
		log.Fatal("-concurrency must be at least 1")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := run(ctx, c); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d photos (%d missing, %d invalid) to s3://%s in %.2f s",
		c.n, c.missing, c.invalid, c.bucket, time.Since(start).Seconds())
}

func run(ctx context.Context, c config) error {
	client := newClient(c)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &c.bucket}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		var exists *types.BucketAlreadyExists
		if !errors.As(err, &owned) && !errors.As(err, &exists) {
			return fmt.Errorf("create bucket %s: %w", c.bucket, err)
		}
	}
	put := func(ctx context.Context, key string, body []byte) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.bucket, Key: &key, Body: bytes.NewReader(body)})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", c.bucket, key, err)
		}
		return nil
	}

	rng := rand.New(rand.NewPCG(c.seed, c.seed^0x5eed))
	missing, invalid := pickFaulty(rng, c.n, c.missing, c.invalid)
	if len(missing) > 0 {
		log.Printf("photos without an output: %v", names(missing))
	}
	if len(invalid) > 0 {
		log.Printf("photos with a malformed output: %v", names(invalid))
	}

	if err := put(ctx, "labels/classes.json", classMap(c.classes)); err != nil {
		return err
	}
	rows := stagedRows(rng, c)
	var staged bytes.Buffer
	if err := inspect.WriteStaged(&staged, rows); err != nil {
		return fmt.Errorf("staged table: %w", err)
	}
	if err := put(ctx, "staged/dt="+c.day+"/staged.parquet", staged.Bytes()); err != nil {
		return err
	}

	// Bodies are made in order, so they depend on the seed alone, not on
	// the order the PUTs run in.
	bodies := make([][]byte, c.n)
	for i := range c.n {
		switch {
		case missing[i]:
		case invalid[i] != 0:
			bodies[i] = malformed(invalid[i], i, c.classes)
		default:
			bodies[i] = prediction(rng, c.classes)
		}
	}
	prefix := "transform/dt=" + c.day + "/"
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for i, s := range rows {
		if missing[i] {
			continue
		}
		g.Go(func() error { return put(ctx, prefix+s.OutputKey, bodies[i]) })
	}
	return g.Wait()
}

// newClient returns an S3 client for c.endpoint with as many connections
// kept open as PUTs are in flight.
func newClient(c config) *s3.Client {
	o := s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(c.endpoint),
		UsePathStyle: true,
		// What config.LoadDefaultConfig, and so internal/storage, gives.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = c.concurrency
			t.MaxIdleConnsPerHost = c.concurrency
		}),
	}
	if c.noDelay {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(noDelayHeader, "1"))
	}
	return s3.New(o)
}

// classMap is classes.json as the labeling job's label category
// configuration gives it.
func classMap(classes int) []byte {
	b := []byte(`{"document-version":"2018-11-28","labels":[`)
	for i := range classes {
		if i > 0 {
			b = append(b, ',')
		}
		name := "class-" + strconv.Itoa(i)
		if i < len(classNames) {
			name = classNames[i]
		}
		b = fmt.Appendf(b, `{"label":%q}`, name)
	}
	return append(b, "]}\n"...)
}

// stagedRows are the day's photos, one per review: r-000000/0.jpg, ...
func stagedRows(rng *rand.Rand, c config) []inspect.Staged {
	day, err := time.Parse(time.DateOnly, c.day)
	if err != nil {
		log.Fatalf("-day %q: want YYYY-MM-DD", c.day)
	}
	rows := make([]inspect.Staged, c.n)
	for i := range rows {
		id := fmt.Sprintf("r-%06d", i)
		key := id + "/0.jpg"
		uri := "s3://" + c.bucket + "/photos/" + key
		s := inspect.Staged{
			ReviewID:    id,
			ReviewType:  inspect.ProductReview,
			ImageIndex:  0,
			ImageURI:    uri,
			InputURI:    uri,
			InputKey:    key,
			OutputKey:   key + inspect.OutputSuffix,
			SizeBytes:   50_000 + rng.Int64N(2_000_000),
			ContentType: "image/jpeg",
			UserID:      fmt.Sprintf("u-%07d", rng.IntN(5_000_000)),
			CreatedAt:   day.Add(-24*time.Hour + time.Duration(rng.Int64N(int64(24*time.Hour)))).Truncate(time.Microsecond),
			Day:         c.day,
		}
		if i%2 == 1 {
			s.ReviewType = inspect.StyleReview
		} else {
			s.ProductID = fmt.Sprintf("p-%06d", rng.IntN(200_000))
		}
		rows[i] = s
	}
	return rows
}

// prediction is one output as the image classification algorithm writes
// it. Nine photos in ten have a confident class (0.80 to 0.999); the rest
// are spread out. Probabilities are whole millionths adding up to exactly
// 1,000,000, written with six decimals.
func prediction(rng *rand.Rand, classes int) []byte {
	const one = 1_000_000
	p := make([]int, classes)
	if rng.IntN(10) < 9 {
		top := 800_000 + rng.IntN(199_000)
		split(rng, p, one-top)
		p[rng.IntN(classes)] += top
	} else {
		split(rng, p, one)
	}
	b := []byte(`{"prediction": [`)
	for i, v := range p {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%d.%06d", v/one, v%one)
	}
	return append(b, "]}"...)
}

// split shares total among the elements of p at random.
func split(rng *rand.Rand, p []int, total int) {
	w := make([]float64, len(p))
	var sum float64
	for i := range w {
		w[i] = rng.ExpFloat64() // Dirichlet(1, ..., 1) once normalised
		sum += w[i]
	}
	left := total
	for i := range p {
		if i == len(p)-1 {
			p[i] = left
			break
		}
		p[i] = int(float64(total) * w[i] / sum)
		left -= p[i]
	}
}

// Kinds of malformed output, in the order they are handed out: the first
// five (the default -invalid) are wrong by any reading; the last two only
// to a step that checks the values.
const (
	notJSON = iota + 1
	truncated
	tooFewClasses
	noPrediction
	emptyObject
	outOfRange
	badSum
	numKinds = badSum
)

// malformed is an invalid output of the given kind for photo i.
func malformed(kind, i, classes int) []byte {
	zeros := func(n int) []string {
		z := make([]string, n)
		for i := range z {
			z[i] = "0.0"
		}
		return z
	}
	switch kind {
	case notJSON:
		return []byte("Internal server error\n")
	case truncated:
		return []byte(`{"prediction": [0.91, 0.02`)
	case tooFewClasses:
		return predictionOf(append([]string{"1.0"}, zeros(classes-2)...))
	case noPrediction:
		return fmt.Appendf(nil, `{"predictions": [%d]}`, i)
	case emptyObject:
		return []byte(`{}`)
	case outOfRange:
		return predictionOf(append([]string{"1.5", "-0.5"}, zeros(classes-2)...))
	default: // badSum
		return predictionOf(append([]string{"0.9", "0.9"}, zeros(classes-2)...))
	}
}

func predictionOf(probs []string) []byte {
	return []byte(`{"prediction": [` + strings.Join(probs, ", ") + `]}`)
}

// pickFaulty chooses which photos get no output and which a malformed one
// (mapped to its kind), distinct and at random.
func pickFaulty(rng *rand.Rand, n, nMissing, nInvalid int) (missing map[int]bool, invalid map[int]int) {
	missing, invalid = make(map[int]bool), make(map[int]int)
	for len(missing) < nMissing {
		missing[rng.IntN(n)] = true
	}
	for len(invalid) < nInvalid {
		i := rng.IntN(n)
		if !missing[i] && invalid[i] == 0 {
			invalid[i] = 1 + len(invalid)%numKinds
		}
	}
	return missing, invalid
}

// names gives the review IDs of the photos in m, in order.
func names[V any](m map[int]V) []string {
	var out []string
	for _, i := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("r-%06d", i))
	}
	return out
}
