package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
)

// apiError is a request that cannot be served, answered as {"error": message} (Ollama) or
// {"error": {"message", "type", "param", "code"}} (OpenAI) with an HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

// modelNotFound is Ollama's answer for a model it does not have (server/routes.go).
func modelNotFound(name string) *apiError {
	return errorf(http.StatusNotFound, "model %q not found, try pulling it first", name)
}

func modelRequired() *apiError { return badRequest("model is required") }

// statusClientClosed is what the log records for a request its client abandoned before any
// answer (nginx's convention, which Ollama uses too).
const statusClientClosed = 499

const errClientDisconnected = "client disconnected"

// bodyError turns a decoding error into a 400 that names the offending field.
func bodyError(err error) *apiError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if optErr, ok := optionError(typeErr.Field); ok {
			return optErr
		}
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return badRequest("invalid request: %s: expected %s, got %s", field, jsonKind(typeErr.Type), typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return badRequest("invalid JSON: %s (at byte %d)", syntaxErr.Error(), syntaxErr.Offset)
	}
	return badRequest("invalid request: %s", err.Error())
}

// jsonKind names a Go type the way a client thinks of it: as the JSON it should have sent.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	default:
		return t.String()
	}
}

// appendOllamaError is Ollama's error body: {"error": message}.
func appendOllamaError(b []byte, msg string) []byte {
	b = append(b, `{"error":`...)
	b = appendString(b, msg)
	return append(b, '}')
}

// appendOpenAIError is the error body of Ollama's OpenAI layer (openai.NewError): the type
// follows the status, param and code are always null.
func appendOpenAIError(b []byte, status int, msg string) []byte {
	kind := "api_error"
	switch status {
	case http.StatusBadRequest:
		kind = "invalid_request_error"
	case http.StatusNotFound:
		kind = "not_found_error"
	}
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, kind)
	return append(b, `,"param":null,"code":null}}`...)
}
