package convnet

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/synth"
)

// benchData is synthetic photos at 3,32,32, made once per process.
var benchData struct {
	train, val *Dataset
	photos     []image.Image
}

func benchSets(b *testing.B) (*Dataset, *Dataset) {
	b.Helper()
	if benchData.train == nil {
		benchData.train, _ = synthSet(b, 2048, 11, Shape{3, 32, 32})
		benchData.val, _ = synthSet(b, 512, 12, Shape{3, 32, 32})
	}
	return benchData.train, benchData.val
}

// demoHyperparameters are the settings recommended for the demo.
func demoHyperparameters(trainPhotos, numLayers int, lr float64) Hyperparameters {
	h := DefaultHyperparameters()
	h.NumClasses, h.NumTrainingSamples, h.ImageShape = 4, trainPhotos, Shape{3, 32, 32}
	h.Epochs, h.MiniBatchSize, h.NumLayers, h.LearningRate = 15, 16, numLayers, lr
	h.Augmentation = "crop"
	h.LRSchedulerStep = []int{9, 13}
	return h
}

// BenchmarkTrain measures training throughput on both cores: photos per
// second of an epoch (forward, backward and update on every train photo,
// then the validation pass over a quarter as many), at 3,32,32 with the
// demo's settings, on each matrix-product path this CPU has.
func BenchmarkTrain(b *testing.B) {
	for _, layers := range []int{18, 34} {
		for _, path := range []string{"gonum", "avx2", "avx512"} {
			if !withPath(path, func() {}) {
				continue // not on this CPU
			}
			b.Run(fmt.Sprintf("num_layers=%d/%s", layers, path), func(b *testing.B) {
				train, val := benchSets(b)
				h := demoHyperparameters(train.Len(), layers, 0.05)
				h.Epochs = 1
				cpu0 := cpuSeconds()
				withPath(path, func() {
					for b.Loop() {
						if _, _, err := Train(context.Background(), h, train, val, TrainOptions{}); err != nil {
							b.Fatal(err)
						}
					}
				})
				reportRate(b, train.Len()*b.N, cpuSeconds()-cpu0)
			})
		}
	}
}

// BenchmarkPredict measures inference throughput on both cores: photos per
// second through PredictBatch (96×96 photos scaled to 3,32,32, then the
// network), and through PredictDataset (the network alone).
func BenchmarkPredict(b *testing.B) {
	train, val := benchSets(b)
	h := demoHyperparameters(train.Len(), 18, 0.05)
	h.Epochs = 1
	m, _, err := Train(context.Background(), h, train, val, TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if benchData.photos == nil {
		for i := range 1024 {
			img, _ := synth.Photo(rand.New(rand.NewPCG(13, uint64(i))), synth.Class(i%4), synth.Options{})
			benchData.photos = append(benchData.photos, img)
		}
	}
	b.Run("batch", func(b *testing.B) {
		cpu0 := cpuSeconds()
		for b.Loop() {
			if _, err := m.PredictBatch(context.Background(), benchData.photos); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, len(benchData.photos)*b.N, cpuSeconds()-cpu0)
	})
	b.Run("dataset", func(b *testing.B) {
		cpu0 := cpuSeconds()
		for b.Loop() {
			if _, err := m.PredictDataset(context.Background(), train); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, train.Len()*b.N, cpuSeconds()-cpu0)
	})
}

// BenchmarkDemo is one training job at the demo's default size: 4,000
// labelled photos (3,200 train, 800 validation, drawn by synth as JPEGs and
// decoded), the recommended hyperparameters, then the model scored on 2,000
// held-out photos. It reports the job's seconds (training only), held-out
// accuracy, the share of photos whose top probability is at least 0.95 and
// their accuracy, and the accuracy on the photos made hard on purpose.
// Run it with -benchtime 1x; set -count for several runs.
func BenchmarkDemo(b *testing.B) {
	for _, c := range []struct {
		layers, epochs int
		lr             float64
		steps          []int
	}{
		{18, 15, 0.05, nil}, {18, 15, 0.1, nil}, {34, 15, 0.05, nil}, {34, 15, 0.1, nil},
		// A lighter job, for a busy machine.
		{18, 12, 0.1, []int{8, 11}},
	} {
		b.Run(fmt.Sprintf("num_layers=%d/learning_rate=%g/epochs=%d", c.layers, c.lr, c.epochs), func(b *testing.B) {
			sh := Shape{3, 32, 32}
			train, _ := synthSet(b, 3200, 21, sh)
			val, _ := synthSet(b, 800, 22, sh)
			test, infos := synthSet(b, 2000, 23, sh)
			h := demoHyperparameters(train.Len(), c.layers, c.lr)
			if c.steps != nil {
				h.Epochs, h.LRSchedulerStep = c.epochs, c.steps
			}
			var seconds, cpu, acc, share, shareAcc, hardAcc, val1 float64
			b.ResetTimer()
			for b.Loop() {
				start, cpu0 := time.Now(), cpuSeconds()
				m, res, err := Train(context.Background(), h, train, val, TrainOptions{})
				if err != nil {
					b.Fatal(err)
				}
				seconds, cpu = time.Since(start).Seconds(), cpuSeconds()-cpu0
				val1 = res.ValidationAccuracy
				probs, err := m.PredictDataset(context.Background(), test)
				if err != nil {
					b.Fatal(err)
				}
				s := scoreProbs(probs, test, infos)
				acc, share, shareAcc, hardAcc = s.accuracy, s.confident, s.confidentAccuracy, s.hardAccuracy
				b.Logf("top probability by difficulty: %v", s.byDifficulty)
			}
			b.ReportMetric(seconds, "train-s")
			b.ReportMetric(cpu, "train-cpu-s")
			b.ReportMetric(val1, "val-acc")
			b.ReportMetric(acc, "heldout-acc")
			b.ReportMetric(share, "p>=0.95-share")
			b.ReportMetric(shareAcc, "p>=0.95-acc")
			b.ReportMetric(hardAcc, "hard-acc")
		})
	}
}

type score struct {
	accuracy, confident, confidentAccuracy, hardAccuracy float64
	byDifficulty                                         map[string]string
}

func scoreProbs(probs [][]float32, d *Dataset, infos []synth.Info) score {
	var s score
	right, conf, confRight, hard, hardRight := 0, 0, 0, 0, 0
	tops := map[synth.Difficulty][]float64{}
	for i, p := range probs {
		k := argmax(p)
		ok := k == d.Label(i)
		if ok {
			right++
		}
		if p[k] >= 0.95 {
			conf++
			if ok {
				confRight++
			}
		}
		if infos[i].Difficulty != synth.Easy {
			hard++
			if ok {
				hardRight++
			}
		}
		tops[infos[i].Difficulty] = append(tops[infos[i].Difficulty], float64(p[k]))
	}
	s.accuracy = float64(right) / float64(len(probs))
	s.confident = float64(conf) / float64(len(probs))
	s.confidentAccuracy = float64(confRight) / float64(max(conf, 1))
	s.hardAccuracy = float64(hardRight) / float64(max(hard, 1))
	s.byDifficulty = map[string]string{}
	for diff, v := range tops {
		sort.Float64s(v)
		s.byDifficulty[diff.String()] = fmt.Sprintf("n=%d median top probability %.3f", len(v), v[len(v)/2])
	}
	return s
}

// BenchmarkLoad measures reading photos into a Dataset on both cores:
// decoding 96×96 JPEGs (as synth writes them) and scaling them to 3,32,32.
func BenchmarkLoad(b *testing.B) {
	var files [][]byte
	for i := range 1024 {
		data, _, err := synth.JPEG(rand.New(rand.NewPCG(14, uint64(i))), synth.Class(i%4), synth.Options{})
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	cpu0 := cpuSeconds()
	for b.Loop() {
		ds := NewDataset(Shape{3, 32, 32}, 0, len(files))
		err := ds.Fill(context.Background(), 0, func(i int) (image.Image, int, error) {
			img, _, err := DecodeBytes(files[i], DecodeOptions{})
			return img, i % 4, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, len(files)*b.N, cpuSeconds()-cpu0)
}

// reportRate reports photos per second of wall time, and per second of
// CPU time (user and system, every core): on a machine shared with other
// work the second is the steadier measure of the work done, and twice it
// is what the two cores would give alone with perfect scaling.
func reportRate(b *testing.B, photos int, cpu float64) {
	b.ReportMetric(float64(photos)/b.Elapsed().Seconds(), "photos/s")
	if cpu > 0 {
		b.ReportMetric(float64(photos)/cpu, "photos/cpu-s")
	}
}
