// Package consolidate turns several inspectors' answers about the same
// photos into one label a photo, weighing each inspector by how reliable
// they are, and writes the result as a Ground Truth output manifest that
// package manifest (and the manifest step) reads unchanged.
//
// Like package manifest it is pure: readers and io/fs.FS in, values and
// writers out. It knows nothing of S3 or the command line; the consolidate
// step (internal/consolidatecmd) lists and moves the files.
//
// # Worker responses
//
// [ReadWorkerResponses] reads a SageMaker Ground Truth labelling job's
// output folder, given as an fs.FS:
//
//	annotations/worker-response/iteration-N/<datasetObjectId>/<timestamp>.json
//	annotations/consolidated-annotation/consolidation-request/iteration-N/<timestamp>.json
//
// A worker-response file holds {"answers": [...]}, each answer with a
// workerId, an answerContent whose one element (the template's
// crowd-image-classifier, or the one named in [ResponsesOptions].Element)
// holds {"label": "<class name>"}, and submissionTime (else
// acceptanceTime) in 2020-12-28T18:59:15.191Z form, with or without the
// fraction (a time without a zone is UTC). All the files of an object's
// folder are merged, across iterations too. Other keys (workerMetadata,
// timeSpentInSeconds, workerComment) are ignored once checked.
//
// Multi-select answers ({"labels": [...]}, the multi-label template) are
// refused with [ErrMultiSelect]: how to consolidate several labels a photo
// is another question (Ground Truth does not document its own), and the
// manifest step trains single-label classification.
//
// Worker responses do not name the photo. A datasetObjectId is mapped to
// its photo by the consolidation requests (a JSON array of
// {"datasetObjectId", "dataObject": {"s3Uri"}} objects, as Ground Truth
// hands them to the consolidation Lambda), or else by the job's input
// manifest, whose N-th non-blank line (from 0) is datasetObjectId N. When
// both are given they must agree; an id neither maps is [ErrNoPhoto].
//
// # Answers table
//
// [ReadAnswers] reads the answers that any labelling tool can export, one
// row an answer, as CSV (with a header row; a UTF-8 byte-order mark is
// skipped) or Parquet, told apart by Parquet's magic bytes "PAR1":
//
//	image_uri     the photo, s3://bucket/key (the output manifest's source-ref)
//	inspector_id  who answered: any non-empty string
//	label         the class name answered
//	answered_at   optional column: RFC 3339, or "2026-11-28 09:30:00" (UTC); empty or null = unknown
//
// Column names are matched without case (and, in CSV, surrounding spaces);
// other columns are ignored. In Parquet the three first columns are
// strings (utf8, large_utf8 or dictionary), answered_at a timestamp of
// any unit or a string. Every value must be valid UTF-8.
//
// A class name is matched exactly, else without surrounding spaces and
// case when that finds one class. When an inspector answered the same
// photo more than once, their latest answer counts (by time, then by
// order read); the others are listed in [Result].Superseded and in
// rejected.jsonl by [Run].
//
// # Trust file
//
// [ReadTrust] reads what a team believes of some inspectors, as CSV:
//
//	inspector_id,accuracy,strength
//	alice,0.98,50
//	bob,0.9,
//
// accuracy is the prior probability that the inspector answers the true
// class, in (0, 1). A weight column may stand instead of accuracy: a vote
// weight w, the log-odds ln((K-1)·a/(1-a)) of an accuracy a among K
// classes (0 is chance; see [Weight]). strength, optional, is how many
// answers per true class the belief is worth against the inspector's
// actual answers (default [DefaultTrustStrength]). Lines starting with #
// are comments.
//
// # Methods
//
// [DawidSkene] (the default) is the Dawid–Skene model fitted by EM, as in
// crowd-kit and, with a stronger prior, Ground Truth's own consolidation:
// it starts from the majority vote; the M-step estimates the class priors
// and each inspector's K×K confusion matrix, adding Dirichlet
// pseudo-counts to every row (a one-coin row of the inspector's prior
// accuracy, worth PriorStrength answers, or their trust and its
// strength), so that an inspector with few answers is not judged on a
// handful of photos; the E-step computes every photo's posterior in log
// space. EM stops when the log-likelihood grows by less than Tolerance
// per answer, or after MaxIterations. The label is the most probable
// class, its posterior the confidence.
//
// [Majority] is a weighted majority vote: an inspector's vote weighs the
// log-odds of their accuracy (the trusted one, or the share of their
// answers that agree with the plurality of the others on the same photo,
// smoothed like the prior), the Bayes decision when every inspector errs
// uniformly at random (the one-coin model); the confidence is that
// model's posterior. [PlainMajority] counts votes; the confidence is the
// share of votes.
//
// Results do not depend on the order answers were read in nor on the
// number of cores: photos and inspectors are numbered in sorted order, and
// ties go to the lowest class index.
//
// # Outputs
//
// [WriteManifest] writes one line a photo, in source-ref order:
//
//	{"source-ref":"s3://b/p.jpg","category":2,"category-metadata":{"class-name":"full-length",
//	 "confidence":0.993521,"human-annotated":"yes","job-name":"labeling-job/category",
//	 "creation-date":"2026-11-28T09:30:00.000000","type":"groundtruth/image-classification"}}
//
// where creation-date is the photo's latest answer's time. [WorkersTable]
// (workers.parquet) describes every inspector; [DisagreementsTable]
// (disagreements.parquet) lists the photos whose confidence is below a
// threshold, with every answer they got.
//
// # Errors
//
// Every bad answer, row or file is an *[InputError] naming the file, the
// row (tables), line (input manifest) or JSON path (worker responses,
// e.g. answers[1].answerContent.crowd-image-classifier.label) and what
// was expected; errors.Is finds [ErrMultiSelect], [ErrUnknownClass] and
// [ErrNoPhoto] through it. Reading stops at the first.
package consolidate
