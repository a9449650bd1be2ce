package convnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/synth"
)

// synthSet draws n labelled synthetic photos (classes in turn), through
// JPEG as the pipeline stores them, scaled to sh.
func synthSet(tb testing.TB, n int, seed uint64, sh Shape) (*Dataset, []synth.Info) {
	tb.Helper()
	return synthSetOpts(tb, n, seed, sh, synth.Options{}, synth.Package, synth.Product, synth.FullLength, synth.HalfLength)
}

// synthSetOpts draws n photos of the given classes in turn; photo i's label
// is the index of its class in classes.
func synthSetOpts(tb testing.TB, n int, seed uint64, sh Shape, opts synth.Options, classes ...synth.Class) (*Dataset, []synth.Info) {
	tb.Helper()
	ds := NewDataset(sh, 0, n)
	infos := make([]synth.Info, n)
	err := ds.Fill(context.Background(), 0, func(i int) (image.Image, int, error) {
		data, info, err := synth.JPEG(rand.New(rand.NewPCG(seed, uint64(i))), classes[i%len(classes)], opts)
		if err != nil {
			return nil, 0, err
		}
		img, _, err := DecodeBytes(data, DecodeOptions{})
		infos[i] = info
		return img, i % len(classes), err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ds, infos
}

// tiny is the small training run of the tests: 400 easy photos of 48×48
// at 3,24,24, packages against full-length shots, a few epochs.
func tiny(tb testing.TB) (Hyperparameters, *Dataset, *Dataset) {
	tb.Helper()
	sh := Shape{3, 24, 24}
	opts := synth.Options{Size: 48, HardFraction: -1}
	train, _ := synthSetOpts(tb, 400, 1, sh, opts, synth.Package, synth.FullLength)
	val, _ := synthSetOpts(tb, 200, 2, sh, opts, synth.Package, synth.FullLength)
	h := DefaultHyperparameters()
	h.NumClasses, h.NumTrainingSamples, h.ImageShape = 2, train.Len(), sh
	h.Epochs, h.MiniBatchSize, h.NumLayers, h.LearningRate = 8, 16, 18, 0.05
	h.Augmentation = "crop"
	h.LRSchedulerStep = []int{6}
	return h, train, val
}

// A short run learns: validation accuracy well above chance (50%), and the
// log has the MXNet lines SageMaker's metric regexes read.
func TestTrainLearns(t *testing.T) {
	h, train, val := tiny(t)
	var lines []string
	var epochs []EpochResult
	m, res, err := Train(context.Background(), h, train, val, TrainOptions{Seed: 1,
		Log:   func(l string) { lines = append(lines, l) },
		Epoch: func(e EpochResult) { epochs = append(epochs, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != h.Epochs || epochs[h.Epochs-1] != res.Epochs[h.Epochs-1] {
		t.Errorf("Epoch called with %v, want %v", epochs, res.Epochs)
	}
	for _, e := range res.Epochs {
		t.Logf("epoch %d: train %.3f validation %.3f loss %.3f", e.Epoch, e.TrainAccuracy, e.ValidationAccuracy, e.TrainLoss)
	}
	if len(res.Epochs) != h.Epochs {
		t.Fatalf("%d epochs, want %d", len(res.Epochs), h.Epochs)
	}
	if res.ValidationAccuracy < 0.8 {
		t.Errorf("validation accuracy %.3f after %d epochs, want at least 0.8", res.ValidationAccuracy, h.Epochs)
	}
	if first, last := res.Epochs[0].TrainLoss, res.Epochs[len(res.Epochs)-1].TrainLoss; last >= first {
		t.Errorf("train loss went from %.3f to %.3f", first, last)
	}
	best := res.Epochs[res.Best]
	for _, e := range res.Epochs {
		if e.ValidationAccuracy > best.ValidationAccuracy {
			t.Errorf("kept epoch %d (%.3f), but epoch %d has %.3f", best.Epoch, best.ValidationAccuracy, e.Epoch, e.ValidationAccuracy)
		}
	}
	if res.ValidationAccuracy != best.ValidationAccuracy || res.TrainAccuracy != best.TrainAccuracy {
		t.Errorf("final metrics %.3f/%.3f are not the kept epoch's", res.TrainAccuracy, res.ValidationAccuracy)
	}
	if got := res.Epochs[len(res.Epochs)-1].LearningRate; math.Abs(got-0.005) > 1e-12 {
		t.Errorf("learning rate in the last epoch %g, want 0.005 after lr_scheduler_step=6", got)
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{"Epoch[0] Train-accuracy=", "Epoch[7] Validation-accuracy=", "Epoch[2] Time cost=", "Final train:accuracy="} {
		if !strings.Contains(log, want) {
			t.Errorf("log has no %q:\n%s", want, log)
		}
	}
	// The model's accuracy on the validation photos is the kept epoch's.
	probs, err := m.PredictDataset(context.Background(), val)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, p := range probs {
		var sum float64
		for _, v := range p {
			if v < 0 || v > 1 {
				t.Fatalf("probability %v", v)
			}
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("probabilities %v sum to %v", p, sum)
		}
		if argmax(p) == val.Label(i) {
			right++
		}
	}
	if got := float64(right) / float64(val.Len()); got != res.ValidationAccuracy {
		t.Errorf("model's validation accuracy %.4f, training reported %.4f", got, res.ValidationAccuracy)
	}

	// A prediction written as the built-in algorithm's transform output
	// reads back with inspect's parser, which checks range and sum.
	for _, p := range probs[:20] {
		out, err := json.Marshal(map[string][]float32{"prediction": p})
		if err != nil {
			t.Fatal(err)
		}
		pred, err := inspect.ParsePrediction(out, h.NumClasses)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if pred.Label != argmax(p) || pred.SumOff {
			t.Errorf("%s: label %d (sum off %v), want %d", out, pred.Label, pred.SumOff, argmax(p))
		}
	}
}

// Training is bit-exact for a seed whatever the number of goroutines, and
// another seed trains another model.
func TestTrainDeterministic(t *testing.T) {
	h, train, val := tiny(t)
	h.Epochs = 2
	h.Augmentation = "crop_color_transform"
	var params [][]float32
	for _, o := range []TrainOptions{{Seed: 3, Workers: 1}, {Seed: 3, Workers: 3}, {Seed: 4, Workers: 2}} {
		m, _, err := Train(context.Background(), h, train, val, o)
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, m.net.values())
	}
	if !equalBits(params[0], params[1]) {
		t.Error("seed 3 trained on 1 and 3 goroutines gives different weights")
	}
	if equalBits(params[0], params[2]) {
		t.Error("seeds 3 and 4 give the same weights")
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A model saved and loaded predicts bit-identically, one photo at a time or
// in a batch, and saves to the same bytes.
func TestSaveLoad(t *testing.T) {
	h, train, val := tiny(t)
	h.Epochs = 2
	m, _, err := Train(context.Background(), h, train, val, TrainOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	saved := bytes.Clone(buf.Bytes())
	loaded, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Shape() != m.Shape() || loaded.NumClasses() != 2 || loaded.Architecture() != m.Architecture() {
		t.Errorf("loaded %v %d %s, saved %v %d %s", loaded.Shape(), loaded.NumClasses(), loaded.Architecture(), m.Shape(), m.NumClasses(), m.Architecture())
	}
	if got, want := loaded.Result().ValidationAccuracy, m.Result().ValidationAccuracy; got != want {
		t.Errorf("loaded validation accuracy %v, saved %v", got, want)
	}
	var again bytes.Buffer
	if err := loaded.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved, again.Bytes()) {
		t.Error("saving the loaded model gives other bytes")
	}

	var imgs []image.Image
	for i := range 37 {
		img, _ := synth.Photo(rand.New(rand.NewPCG(99, uint64(i))), synth.Class(i%4), synth.Options{Size: 48})
		imgs = append(imgs, img)
	}
	batch, err := loaded.PredictBatch(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		want := m.Predict(img)
		if got := loaded.Predict(img); !equalBits(got, want) {
			t.Fatalf("photo %d: loaded model predicts %v, saved one %v", i, got, want)
		}
		if !equalBits(batch[i], want) {
			t.Fatalf("photo %d: in a batch %v, alone %v", i, batch[i], want)
		}
	}

	for name, data := range map[string][]byte{
		"not gzip":  []byte("model"),
		"truncated": saved[:len(saved)/2],
	} {
		if _, err := Load(bytes.NewReader(data)); !errors.Is(err, ErrModel) {
			t.Errorf("%s: Load error %v, want ErrModel", name, err)
		}
	}
}

// pngHeader is the start of a PNG declaring w×h pixels: the signature and
// the IHDR chunk, no image data. Decoding it would fail; only its header
// can be read.
func pngHeader(w, h uint32) []byte {
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	png.Encode(&buf, img)
	b := buf.Bytes()[:33] // signature (8) + IHDR length, type, 13 bytes of data, CRC
	b = bytes.Clone(b)
	putBE := func(off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	putBE(16, w)
	putBE(20, h)
	putBE(29, crc32IEEE(b[12:29]))
	return b
}

func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// jpegHeader is a JPEG declaring w×h pixels: a real 8×8 JPEG whose
// start-of-frame dimensions are rewritten (its scan is then too short to
// decode).
func jpegHeader(tb testing.TB, w, h uint16) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		tb.Fatal("no SOF0 marker")
	}
	b[i+5], b[i+6] = byte(h>>8), byte(h)
	b[i+7], b[i+8] = byte(w>>8), byte(w)
	return b
}

// The guard refuses a photo whose header declares too many pixels before
// decoding it: the crafted files hold a header only, so anything but a
// *TooLargeError would show that decoding was tried.
func TestDecodeGuard(t *testing.T) {
	for name, data := range map[string][]byte{
		"png 100000×100000": pngHeader(100000, 100000),
		"jpeg 60000×60000":  jpegHeader(t, 60000, 60000),
	} {
		_, _, err := DecodeBytes(data, DecodeOptions{})
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Errorf("%s: error %v, want a *TooLargeError", name, err)
			continue
		}
		if tl.Width*tl.Height <= DefaultMaxPixels || tl.MaxPixels != DefaultMaxPixels {
			t.Errorf("%s: %+v", name, tl)
		}
	}
	// Under the limit, the same header is read and then fails to decode.
	_, _, err := DecodeBytes(pngHeader(1000, 1000), DecodeOptions{})
	var tl *TooLargeError
	if err == nil || errors.As(err, &tl) {
		t.Errorf("a 1000×1000 PNG header with no data: error %v, want a decode error", err)
	}
	// The limit is an option.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 100, 50)))
	if _, _, err := Decode(bytes.NewReader(buf.Bytes()), DecodeOptions{MaxPixels: 4999}); !errors.As(err, &tl) {
		t.Errorf("100×50 PNG with a 4999-pixel limit: error %v, want a *TooLargeError", err)
	}
	img, format, err := Decode(bytes.NewReader(buf.Bytes()), DecodeOptions{MaxPixels: 5000})
	if err != nil || format != "png" || img.Bounds().Dx() != 100 {
		t.Errorf("100×50 PNG with a 5000-pixel limit: %v %q %v", img, format, err)
	}
	if _, _, err := Decode(bytes.NewReader(buf.Bytes()), DecodeOptions{MaxBytes: 10}); err == nil || !strings.Contains(err.Error(), "larger than 10 bytes") {
		t.Errorf("a PNG over MaxBytes: error %v", err)
	}
}

func TestDecodeFormats(t *testing.T) {
	var jb bytes.Buffer
	src := image.NewRGBA(image.Rect(0, 0, 20, 10))
	src.Set(3, 3, color.RGBA{200, 10, 10, 255})
	jpeg.Encode(&jb, src, nil)
	img, format, err := DecodeBytes(jb.Bytes(), DecodeOptions{})
	if err != nil || format != "jpeg" || img.Bounds() != src.Bounds() {
		t.Errorf("JPEG: %v %q %v", img.Bounds(), format, err)
	}
	for name, data := range map[string][]byte{
		"gif":   []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"webp":  []byte("RIFF\x1a\x00\x00\x00WEBPVP8 "),
		"bmp":   []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00"),
		"tiff":  []byte("II*\x00\x08\x00\x00\x00"),
		"heif":  []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"),
		"text":  []byte("not an image at all"),
		"empty": nil,
	} {
		_, got, err := DecodeBytes(data, DecodeOptions{})
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "want JPEG or PNG") && !strings.Contains(err.Error(), "not JPEG or PNG") {
			t.Errorf("%s: error %q does not say what is wanted", name, err)
		}
		if name != "text" && name != "empty" && (got != name || !strings.Contains(err.Error(), name)) {
			t.Errorf("%s: format %q, error %q; want the format named", name, got, err)
		}
	}
	if _, _, err := DecodeBytes(jb.Bytes()[:len(jb.Bytes())/2], DecodeOptions{}); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("truncated JPEG: error %v, want a decode error", err)
	}
}

func TestParseHyperparameters(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"num_classes": "4", "num_training_samples": "3200"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	h, warnings, err := ParseHyperparameters(base())
	if err != nil || len(warnings) != 0 {
		t.Fatalf("defaults: %v %v", warnings, err)
	}
	if h.Epochs != 30 || h.LearningRate != 0.1 || h.MiniBatchSize != 32 || h.ImageShape != (Shape{3, 224, 224}) || h.NumLayers != 152 || h.Optimizer != "sgd" || h.Momentum != 0.9 || h.WeightDecay != 0.0001 {
		t.Errorf("defaults %+v", h)
	}
	h, _, err = ParseHyperparameters(base("image_shape", "3,32,32", "epochs", "15", "learning_rate", "0.05", "mini_batch_size", "16",
		"num_layers", "34", "augmentation_type", "crop", "lr_scheduler_step", "9,13", "lr_scheduler_factor", "0.1", "optimizer", "nag", "early_stopping", "True"))
	if err != nil {
		t.Fatal(err)
	}
	if h.ImageShape != (Shape{3, 32, 32}) || h.Epochs != 15 || h.LearningRate != 0.05 || h.MiniBatchSize != 16 || h.NumLayers != 34 ||
		h.Augmentation != "crop" || len(h.LRSchedulerStep) != 2 || h.Optimizer != "nag" || !h.EarlyStopping {
		t.Errorf("parsed %+v", h)
	}
	h, warnings, err = ParseHyperparameters(base("use_pretrained_model", "1"))
	if err != nil || !h.UsePretrainedModel || len(warnings) != 0 {
		t.Errorf("use_pretrained_model=1: %v %q %v; want it held for Train to warn", h.UsePretrainedModel, warnings, err)
	}
	h, _, _ = ParseHyperparameters(base("image_shape", "3,32,32", "epochs", "15", "learning_rate", "0.05", "mini_batch_size", "16",
		"num_layers", "34", "augmentation_type", "crop", "lr_scheduler_step", "9,13", "lr_scheduler_factor", "0.1", "optimizer", "nag", "early_stopping", "True"))
	// Map gives back what was parsed.
	again, _, err := ParseHyperparameters(h.Map())
	if err != nil {
		t.Fatal(err)
	}
	if again.ImageShape != h.ImageShape || again.LearningRate != h.LearningRate || again.Augmentation != h.Augmentation || again.NumLayers != h.NumLayers {
		t.Errorf("round trip %+v, want %+v", again, h)
	}

	for _, tc := range []struct {
		name, key string
		hp        map[string]string
		warning   string
	}{
		{name: "missing num_classes", key: "num_classes", hp: map[string]string{"num_training_samples": "3"}},
		{name: "missing num_training_samples", key: "num_training_samples", hp: map[string]string{"num_classes": "3"}},
		{name: "one class", key: "num_classes", hp: base("num_classes", "1")},
		{name: "unknown", key: "learning_rat", hp: base("learning_rat", "0.1")},
		{name: "shape", key: "image_shape", hp: base("image_shape", "3,32")},
		{name: "channels", key: "image_shape", hp: base("image_shape", "4,32,32")},
		{name: "layers", key: "num_layers", hp: base("num_layers", "19")},
		{name: "augmentation", key: "augmentation_type", hp: base("augmentation_type", "flip")},
		{name: "learning rate", key: "learning_rate", hp: base("learning_rate", "2")},
		{name: "multi-label", key: "multi_label", hp: base("multi_label", "1")},
		{name: "weighted loss", key: "use_weighted_loss", hp: base("use_weighted_loss", "1")},
		{name: "epochs", key: "epochs", hp: base("epochs", "0")},
		{name: "float16", hp: base("precision_dtype", "float16"), warning: "float32"},
		{name: "kv_store", hp: base("kv_store", "dist_sync"), warning: "one machine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := ParseHyperparameters(tc.hp)
			if tc.key == "" {
				if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], tc.warning) {
					t.Errorf("warnings %q, error %v; want a warning about %q", warnings, err, tc.warning)
				}
				return
			}
			var he *HyperparameterError
			if !errors.As(err, &he) || he.Name != tc.key {
				t.Errorf("error %v, want a *HyperparameterError about %s", err, tc.key)
			}
		})
	}
}

func TestDepth(t *testing.T) {
	layers := []int{18, 20, 32, 34, 44, 50, 56, 101, 110, 152, 200}
	prev := 0
	for _, l := range layers {
		d := Depth(l)
		if d < prev || d < 4 {
			t.Errorf("Depth(%d) = %d after %d", l, d, prev)
		}
		prev = d
		a := newArch(3, 32, 32, 4, d, 16)
		if len(a.Blocks) != d {
			t.Errorf("num_layers=%d: %d blocks, want %d", l, len(a.Blocks), d)
		}
	}
	if Depth(19) != 0 {
		t.Error("Depth(19) is not 0")
	}
}

func TestTrainErrors(t *testing.T) {
	h, train, val := tiny(t)
	h.Epochs = 1
	ctx := context.Background()

	bad := h
	bad.NumTrainingSamples = 399
	_, _, err := Train(ctx, bad, train, val, TrainOptions{})
	var he *HyperparameterError
	if !errors.As(err, &he) || he.Name != "num_training_samples" || !strings.Contains(err.Error(), "400 photos") {
		t.Errorf("num_training_samples=399 for 400 photos: %v", err)
	}
	bad = h
	bad.NumClasses = 2
	train.y[7] = 2
	if _, _, err := Train(ctx, bad, train, val, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "photo 7 has class 2") {
		t.Errorf("label 2 with num_classes=2: %v", err)
	}
	train.y[7] = 1
	bad = h
	bad.ImageShape = Shape{3, 16, 16}
	if _, _, err := Train(ctx, bad, train, val, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "image_shape 3,16,16") {
		t.Errorf("photos at 3,24,24 for image_shape 3,16,16: %v", err)
	}
	if _, _, err := Train(ctx, h, train, NewDataset(h.ImageShape, 0, 0), TrainOptions{}); err == nil || !strings.Contains(err.Error(), "validation channel: no photos") {
		t.Errorf("no validation photos: %v", err)
	}

	// Warnings are returned and logged.
	warn := h
	warn.UsePretrainedModel = true
	var log []string
	_, res, err := Train(ctx, warn, train, val, TrainOptions{Log: func(l string) { log = append(log, l) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(strings.Join(log, "\n"), "WARNING: use_pretrained_model=1") {
		t.Errorf("warnings %q, log %q", res.Warnings, log)
	}
}

// early_stopping ends training once the validation accuracy stops
// improving (here it cannot: the learning rate is zero).
func TestEarlyStopping(t *testing.T) {
	h, train, val := tiny(t)
	h.Epochs, h.LearningRate, h.LRSchedulerStep = 30, 0, nil
	h.EarlyStopping, h.EarlyStoppingMinEpochs, h.EarlyStoppingPatience = true, 3, 2
	_, res, err := Train(context.Background(), h, train, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.EarlyStopped || len(res.Epochs) >= 10 || len(res.Epochs) < 3 {
		t.Errorf("early stopped %v after %d epochs, want a stop after 3 to 9", res.EarlyStopped, len(res.Epochs))
	}
}

// Training stops with the context's error at the next mini-batch.
func TestTrainCancel(t *testing.T) {
	h, train, val := tiny(t)
	h.Epochs = 50
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	epochs := 0
	_, _, err := Train(ctx, h, train, val, TrainOptions{Log: func(l string) {
		if strings.Contains(l, "Validation-accuracy") {
			epochs++
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || epochs != 1 {
		t.Errorf("cancelled after epoch 0: error %v after %d epochs, want context.Canceled after 1", err, epochs)
	}
}

func TestLargeShapeWarns(t *testing.T) {
	sh := Shape{3, 72, 72}
	train, _ := synthSetOpts(t, 8, 1, sh, synth.Options{Size: 32}, synth.Package, synth.Product, synth.FullLength, synth.HalfLength)
	val, _ := synthSetOpts(t, 4, 2, sh, synth.Options{Size: 32}, synth.Package, synth.Product, synth.FullLength, synth.HalfLength)
	h := DefaultHyperparameters()
	h.NumClasses, h.NumTrainingSamples, h.ImageShape, h.Epochs, h.NumLayers, h.MiniBatchSize = 4, 8, sh, 1, 18, 8
	_, res, err := Train(context.Background(), h, train, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "image_shape 3,72,72") {
		t.Errorf("warnings %q, want one about image_shape", res.Warnings)
	}
}
