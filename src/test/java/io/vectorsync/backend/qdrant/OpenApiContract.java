package io.vectorsync.backend.qdrant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Qdrant's OpenAPI 3.0 document ({@code src/test/resources/contracts/qdrant-openapi.json}, Qdrant 1.19)
 * as a request and response validator: the method and path template must exist, every query parameter
 * must be declared (and its value fit its schema), the JSON body must validate against the operation's
 * {@code requestBody} schema, and a response against the schema declared for its status.
 *
 * <p>The document's schemas are turned into JSON Schema (draft 7) once, when loaded:
 * <ul>
 *   <li>{@code nullable: true} becomes a {@code "null"} type, and a bare {@code {nullable: true}} (how
 *       Qdrant writes an optional value: {@code anyOf: [{$ref: X}, {nullable: true}]}) accepts null only.
 *       Read as plain JSON Schema it would accept anything and let any malformed optional field through.
 *   <li>Objects that list {@code properties} and say nothing of {@code additionalProperties} are closed:
 *       an unknown property is refused. Stricter than Qdrant, on purpose: a misspelt
 *       {@code update_filter} would otherwise be ignored and silently drop the version guard.
 *   <li>{@code $ref}s become absolute ({@value #BASE}), so any schema of the document validates on its
 *       own; formats are asserted ({@code uuid} point ids).
 * </ul>
 */
final class OpenApiContract {

    static final String BASE = "https://contracts.vectorsync.test/qdrant-openapi.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("description", "example", "examples", "deprecated",
            "discriminator", "externalDocs", "xml", "readOnly", "writeOnly", "title", "nullable");
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    /** One operation of the document. */
    record Operation(String method, String template, Pattern pattern, String operationId, JsonNode node,
            List<JsonNode> parameters) {}

    /** The operation a request matched ({@code null} when none did) and what is wrong with the request. */
    record RequestCheck(Operation operation, Map<String, String> pathParameters, List<String> problems) {
        boolean valid() {
            return operation != null && problems.isEmpty();
        }
    }

    private final JsonNode document;
    private final List<Operation> operations = new ArrayList<>();
    private final JsonSchemaFactory factory;
    private final SchemaValidatorsConfig config;
    private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();

    private OpenApiContract(JsonNode original) throws IOException {
        this.document = normalise(original);
        JsonMetaSchema meta = JsonMetaSchema.builder(JsonMetaSchema.getV7())
                .keywords(List.of(new NonValidationKeyword("openapi"), new NonValidationKeyword("info"),
                        new NonValidationKeyword("paths"), new NonValidationKeyword("components"),
                        new NonValidationKeyword("servers"), new NonValidationKeyword("tags"),
                        new NonValidationKeyword("security"), new NonValidationKeyword("externalDocs")))
                .build();
        String text = JSON.writeValueAsString(document);
        this.factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7, b -> b
                .metaSchema(meta)
                .defaultMetaSchemaIri(meta.getIri())
                .schemaLoaders(l -> l.schemas(Map.of(BASE, text))));
        this.config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        document.path("paths").fields().forEachRemaining(p -> p.getValue().fields().forEachRemaining(m -> {
            if (!METHODS.contains(m.getKey())) {
                return;
            }
            List<JsonNode> params = new ArrayList<>();
            p.getValue().path("parameters").forEach(params::add);
            m.getValue().path("parameters").forEach(params::add);
            String regex = "^" + Pattern.quote(p.getKey()).replaceAll("\\{[^}/]+}", "\\\\E([^/]+)\\\\Q") + "$";
            operations.add(new Operation(m.getKey().toUpperCase(java.util.Locale.ROOT), p.getKey(),
                    Pattern.compile(regex), m.getValue().path("operationId").asText(), m.getValue(), params));
        }));
        // Literal segments win over templated ones (e.g. /collections/aliases over /collections/{name}).
        operations.sort(Comparator.comparingLong(o -> o.template().chars().filter(c -> c == '{').count()));
    }

    /** The document from the test class path. */
    static OpenApiContract load() {
        try (InputStream in = OpenApiContract.class.getResourceAsStream("/contracts/qdrant-openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("contracts/qdrant-openapi.json is not on the test class path");
            }
            return new OpenApiContract(JSON.readTree(in));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks one request; {@code rawPath} and {@code rawQuery} as sent (percent-encoded). */
    RequestCheck checkRequest(String method, String rawPath, String rawQuery, byte[] body, String contentType) {
        List<String> problems = new ArrayList<>();
        String path = URLDecoder.decode(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        Operation op = null;
        Map<String, String> pathParams = new HashMap<>();
        boolean pathExists = false;
        for (Operation o : operations) {
            Matcher m = o.pattern().matcher(path);
            if (!m.matches()) {
                continue;
            }
            pathExists = true;
            if (o.method().equals(method)) {
                op = o;
                Matcher names = Pattern.compile("\\{([^}/]+)}").matcher(o.template());
                int g = 1;
                while (names.find()) {
                    pathParams.put(names.group(1), m.group(g++));
                }
                break;
            }
        }
        if (op == null) {
            problems.add(pathExists ? method + " is not an operation of " + path
                    : "no path template of the document matches " + path);
            return new RequestCheck(null, pathParams, problems);
        }
        // Path and query parameters.
        Map<String, String> query = new HashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (query.put(k, v) != null) {
                    problems.add("query parameter '" + k + "' given twice");
                }
            }
        }
        for (JsonNode p : op.parameters()) {
            String name = p.path("name").asText();
            String in = p.path("in").asText();
            String value = "path".equals(in) ? pathParams.get(name) : "query".equals(in) ? query.remove(name) : null;
            if (value == null) {
                if (p.path("required").asBoolean(false) && ("path".equals(in) || "query".equals(in))) {
                    problems.add("required " + in + " parameter '" + name + "' is missing");
                }
                continue;
            }
            JsonNode typed = typed(value, resolve(p.path("schema")));
            for (ValidationMessage vm : schema(p.path("schema")).validate(typed)) {
                problems.add(in + " parameter '" + name + "': " + vm.getMessage());
            }
        }
        for (String k : query.keySet()) {
            problems.add("query parameter '" + k + "' is not declared for " + op.operationId());
        }
        // Body.
        JsonNode requestBody = op.node().path("requestBody");
        boolean hasBody = body != null && body.length > 0;
        if (requestBody.isMissingNode()) {
            if (hasBody) {
                problems.add(op.operationId() + " takes no request body");
            }
        } else if (!hasBody) {
            problems.add(op.operationId() + " needs a JSON request body");
        } else {
            if (contentType == null || !contentType.startsWith("application/json")) {
                problems.add("Content-Type must be application/json, was " + contentType);
            }
            try {
                JsonNode parsed = JSON.readTree(body);
                JsonNode schema = requestBody.path("content").path("application/json").path("schema");
                for (ValidationMessage vm : schema(schema).validate(parsed)) {
                    problems.add("body: " + vm.getMessage());
                }
            } catch (IOException e) {
                problems.add("body is not JSON: " + e.getMessage());
            }
        }
        return new RequestCheck(op, pathParams, problems);
    }

    /** Checks a response body against the schema declared for its status ({@code 4XX} and {@code default} too). */
    /** True when the operation declares a response for this status (exactly, by class such as 4XX, or default). */
    boolean declares(Operation op, int status) {
        JsonNode responses = op.node().path("responses");
        return responses.has(String.valueOf(status)) || responses.has((status / 100) + "XX") || responses.has("default");
    }

    List<String> checkResponse(Operation op, int status, JsonNode body) {
        JsonNode responses = op.node().path("responses");
        JsonNode r = responses.path(String.valueOf(status));
        if (r.isMissingNode()) {
            r = responses.path((status / 100) + "XX");
        }
        if (r.isMissingNode()) {
            r = responses.path("default");
        }
        if (r.isMissingNode()) {
            return List.of(op.operationId() + " declares no response for status " + status);
        }
        JsonNode schema = r.path("content").path("application/json").path("schema");
        if (schema.isMissingNode()) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        for (ValidationMessage vm : schema(schema).validate(body)) {
            problems.add("response " + status + " of " + op.operationId() + ": " + vm.getMessage());
        }
        return problems;
    }

    /** Validation messages of {@code instance} against {@code components/schemas/<name>}. */
    List<String> validate(String name, JsonNode instance) {
        JsonNode ref = JSON.createObjectNode().put("$ref", BASE + "#/components/schemas/" + name);
        List<String> out = new ArrayList<>();
        schema(ref).validate(instance).forEach(vm -> out.add(vm.getMessage()));
        return out;
    }

    private JsonSchema schema(JsonNode normalised) {
        return schemas.computeIfAbsent(normalised.toString(), k -> factory.getSchema(normalised, config));
    }

    private JsonNode resolve(JsonNode schema) {
        JsonNode s = schema;
        for (int i = 0; i < 10 && s.has("$ref"); i++) {
            s = document.at(s.get("$ref").asText().substring(BASE.length() + 1));
        }
        return s;
    }

    /** A query or path value as the JSON its schema expects. */
    private static JsonNode typed(String value, JsonNode schema) {
        String type = schema.path("type").isArray() ? schema.path("type").get(0).asText() : schema.path("type").asText();
        if ("boolean".equals(type) && ("true".equals(value) || "false".equals(value))) {
            return BooleanNode.valueOf(Boolean.parseBoolean(value));
        }
        if ("integer".equals(type)) {
            try {
                return LongNode.valueOf(Long.parseLong(value));
            } catch (NumberFormatException notANumber) {
                return TextNode.valueOf(value);
            }
        }
        return TextNode.valueOf(value);
    }

    // ---------------------------------------------------------------- OpenAPI 3.0 -> JSON Schema

    private static JsonNode normalise(JsonNode original) {
        ObjectNode doc = original.deepCopy();
        ObjectNode schemas = (ObjectNode) doc.path("components").path("schemas");
        List<String> names = new ArrayList<>();
        schemas.fieldNames().forEachRemaining(names::add);
        names.forEach(n -> schemas.set(n, toJsonSchema(schemas.get(n))));
        doc.path("paths").forEach(item -> {
            normaliseParameters(item.path("parameters"));
            item.fields().forEachRemaining(m -> {
                if (!METHODS.contains(m.getKey())) {
                    return;
                }
                JsonNode op = m.getValue();
                normaliseParameters(op.path("parameters"));
                normaliseContent(op.path("requestBody").path("content"));
                op.path("responses").forEach(r -> normaliseContent(r.path("content")));
            });
        });
        return doc;
    }

    private static void normaliseParameters(JsonNode params) {
        params.forEach(p -> {
            if (p.has("schema")) {
                ((ObjectNode) p).set("schema", toJsonSchema(p.get("schema")));
            }
        });
    }

    private static void normaliseContent(JsonNode content) {
        content.forEach(media -> {
            if (media.has("schema")) {
                ((ObjectNode) media).set("schema", toJsonSchema(media.get("schema")));
            }
        });
    }

    static JsonNode toJsonSchema(JsonNode s) {
        if (!s.isObject()) {
            return s;
        }
        if (s.has("$ref")) {
            String ref = s.get("$ref").asText();
            return JSON.createObjectNode().put("$ref", ref.startsWith("#") ? BASE + ref : ref);
        }
        ObjectNode out = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            JsonNode v = e.getValue();
            switch (k) {
                case "properties" -> {
                    ObjectNode p = out.putObject("properties");
                    v.fields().forEachRemaining(f -> p.set(f.getKey(), toJsonSchema(f.getValue())));
                }
                case "items", "not" -> out.set(k, toJsonSchema(v));
                case "additionalProperties" -> out.set(k, v.isObject() ? toJsonSchema(v) : v);
                case "anyOf", "oneOf", "allOf" -> {
                    ArrayNode a = out.putArray(k);
                    v.forEach(x -> a.add(toJsonSchema(x)));
                }
                default -> {
                    if (!ANNOTATIONS.contains(k)) {
                        out.set(k, v);
                    }
                }
            }
        }
        if (out.has("properties") && !out.has("additionalProperties") && !out.has("patternProperties")) {
            out.put("additionalProperties", false);
        }
        if (!s.path("nullable").asBoolean(false)) {
            return out;
        }
        if (out.has("type") && out.get("type").isTextual()) {
            String type = out.get("type").asText();
            out.putArray("type").add(type).add("null");
            if (out.has("enum")) {
                ((ArrayNode) out.get("enum")).addNull();
            }
            return out;
        }
        out.remove("default");
        if (out.isEmpty()) {
            return JSON.createObjectNode().put("type", "null");
        }
        ObjectNode either = JSON.createObjectNode();
        either.putArray("anyOf").add(out).add(JSON.createObjectNode().put("type", "null"));
        return either;
    }
}
