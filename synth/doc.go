// Package synth draws synthetic review photos for demos and tests: the four
// kinds of photo reviewlens classifies, with the labels a Ground Truth job
// would have produced and a day's reviews to inspect, so that the whole
// workflow can run, and be scored, without real photos.
//
// # Photos
//
// Photo draws one photo of a Class: a Package (a box or a mailer bag, with
// tape and a shipping label), a Product (a shirt, trousers, shoes, a bag or a
// dress laid flat), a FullLength shot (a person from head to feet) or a
// HalfLength one (from the waist up). Everything but the subject's
// silhouette is drawn from the same distributions whatever the class: its
// colours, its size as a share of the frame, position, rotation and mirror
// image, the background (a wall, maybe a floor, stripes), clutter, a
// shadow, the lighting (exposure, gradient, colour cast, vignette), blur,
// noise and JPEG quality. A classifier on mean colour and simple image
// statistics stays near chance (TestNoCheapCue); a small convolutional
// network (internal/convnet, 3,32,32) reaches about 97%.
//
// About one photo in ten is hard on purpose (Options.HardFraction): a large
// object hides part of the subject (Occluded), a person is cut off near
// the line between full-length and half-length (Cropped; see CropLine), or
// the photo is badly out of focus (Blurred). Their class stays the truth, so
// a classifier is less sure of them, and calibration has work to do.
//
// Drawing is deterministic: the same rand.Rand state gives the same photo,
// and the writers give the same bytes for the same seed.
//
// # Files
//
// WriteLabelled writes a labelled set as a Ground Truth labelling job
// leaves it: JPEGs, output.manifest (single-label image classification,
// lines labelled by people and by automated data labelling, with
// confidences) and label-categories.json (classes in the order of
// ClassNames), readable by manifest.Convert. WriteDay writes a day's
// reviews (reviews.parquet or reviews.csv, as inspect reads them) and their
// photos. Both write truth.csv, each photo's real class and difficulty,
// kept aside for scoring (ReadTruth).
package synth
