package consolidate

// AnswerAt returns answer i of a, as added.
func AnswerAt(a *Answers, i int) Answer { return a.answer(i) }
