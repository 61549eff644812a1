package io.vectorsync.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The body of every error answer: a stable code, what went wrong, the field and what was expected. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String code, String message, String field, String expected) {}
