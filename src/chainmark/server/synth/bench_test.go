package synth

import (
	"encoding/json"
	"strings"
	"testing"
)

func BenchmarkAnswer(b *testing.B) {
	m := zeroModel(BehaviourCorrect, 250)
	p := userPrompt("Why is the sky blue?")
	b.ReportAllocs()
	for b.Loop() {
		if a := m.Answer(p, Options{}, nil, nil); len(a.Tokens) != 250 {
			b.Fatal(len(a.Tokens))
		}
	}
}

func BenchmarkAnswerRAGPrompt(b *testing.B) {
	m := zeroModel(BehaviourCorrect, 250)
	p := userPrompt("Use the following pieces of context to answer the question at the end.\n\n" +
		strings.Repeat("The quick brown fox jumps over the lazy dog near the river bank. ", 60) +
		"\n\nQuestion: What does the fox do?\nHelpful Answer:")
	b.ReportAllocs()
	for b.Loop() {
		m.Answer(p, Options{}, nil, nil)
	}
}

func BenchmarkAnswerReActStep(b *testing.B) {
	m := zeroModel(BehaviourCorrect, 250)
	prompt := pythonStyle.render([]string{"WordLengthTool", "SimpleCalculator", "CounterTool"},
		"What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?",
		[]agentStep{{log: " I need to compute 25 multiplied by 4.\nAction: SimpleCalculator\nAction Input: 25*4", observation: "100"}})
	p := userPrompt(prompt)
	b.ReportAllocs()
	for b.Loop() {
		m.Answer(p, Options{Stop: []string{"\nObservation"}}, nil, nil)
	}
}

func BenchmarkAnswerToolCall(b *testing.B) {
	m := zeroModel(BehaviourCorrect, 250)
	p := Prompt{Kind: "chat", Messages: []Message{{Role: "user", Content: "What is 25 multiplied by 4?"}}}
	tools := specTools()
	b.ReportAllocs()
	for b.Loop() {
		m.Answer(p, Options{}, tools, nil)
	}
}

func BenchmarkAnswerSchema(b *testing.B) {
	m := zeroModel(BehaviourCorrect, 250)
	p := userPrompt("Tell me about Ada Lovelace.")
	format := json.RawMessage(testSchemas["person"])
	b.ReportAllocs()
	for b.Loop() {
		m.Answer(p, Options{}, nil, format)
	}
}

func BenchmarkEmbed(b *testing.B) {
	text := strings.Repeat("Retrieval augmented generation splits documents into chunks. ", 17)[:1000]
	b.ReportAllocs()
	for b.Loop() {
		Embed(text, 576)
	}
}

func BenchmarkEmbedShort(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Embed("What are the main themes?", 576)
	}
}
