package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaId;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.vectorsync.capture.CaptureException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The payload schemas of the job types: {@code jobs/<type in lower case>.schema.json} on the classpath,
 * JSON Schema draft 2020-12, validated with networknt's json-schema-validator. Each schema is itself checked
 * against the draft's meta-schema when it is loaded, so a broken schema stops the start-up instead of
 * refusing every job of its type. A refusal names the first offending member as {@code payload.<path>} and
 * the schema's own words; nothing of the payload's values is repeated except member names.
 */
public final class JobPayloadSchemas {

    /** At most this many schema messages in one refusal's detail. */
    static final int MAX_MESSAGES = 5;

    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder().locale(Locale.ENGLISH)
            .formatAssertionsEnabled(true).build();

    private final Map<String, JsonSchema> compiled;
    private final Map<String, JsonNode> documents;

    private JobPayloadSchemas(Map<String, JsonSchema> compiled, Map<String, JsonNode> documents) {
        this.compiled = compiled;
        this.documents = documents;
    }

    /** The classpath resource of a type's schema. */
    public static String resource(String type) {
        return "jobs/" + type.toLowerCase(Locale.ROOT) + ".schema.json";
    }

    /**
     * Loads and compiles the schema of every type.
     *
     * @throws IllegalStateException when a type has no schema on the classpath, or its schema is not valid
     *     JSON Schema 2020-12
     */
    public static JobPayloadSchemas load(Collection<String> types, ObjectMapper json) {
        JsonSchema meta = FACTORY.getSchema(SchemaLocation.of(SchemaId.V202012), CONFIG);
        Map<String, JsonSchema> compiled = new LinkedHashMap<>();
        Map<String, JsonNode> documents = new LinkedHashMap<>();
        for (String type : new TreeSet<>(types)) {
            String resource = resource(type);
            JsonNode doc;
            try (InputStream in = JobPayloadSchemas.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("Job type " + type + " has no payload schema: add " + resource
                            + " (JSON Schema draft 2020-12) to the classpath");
                }
                doc = json.readTree(in);
            } catch (IOException e) {
                throw new IllegalStateException("Job type " + type + ": " + resource + " is not readable JSON", e);
            }
            Set<ValidationMessage> wrong = meta.validate(doc);
            if (!wrong.isEmpty() || !doc.isObject()) {
                throw new IllegalStateException("Job type " + type + ": " + resource
                        + " is not a valid JSON Schema 2020-12 document: " + wrong);
            }
            compiled.put(type, FACTORY.getSchema(doc, CONFIG));
            documents.put(type, doc);
        }
        return new JobPayloadSchemas(Map.copyOf(compiled), Map.copyOf(documents));
    }

    /** The types with a schema, sorted. */
    public Set<String> types() {
        return new TreeSet<>(documents.keySet());
    }

    /** A type's schema document as shipped. */
    public Optional<JsonNode> document(String type) {
        return Optional.ofNullable(documents.get(type));
    }

    /**
     * Checks {@code payload} against its type's schema.
     *
     * @throws CaptureException 400 {@code VSYNC-JOB-INVALID} naming the first offending member
     * @throws IllegalArgumentException for a type without a schema (the caller checks the type first)
     */
    public void validate(String type, JsonNode payload) {
        JsonSchema schema = compiled.get(type);
        if (schema == null) {
            throw new IllegalArgumentException("no payload schema for job type " + type);
        }
        Set<ValidationMessage> found = schema.validate(payload);
        if (found.isEmpty()) {
            return;
        }
        List<ValidationMessage> messages = new ArrayList<>(found);
        messages.sort(Comparator.comparing(JobPayloadSchemas::field));
        List<String> said = new ArrayList<>();
        for (ValidationMessage m : messages.subList(0, Math.min(MAX_MESSAGES, messages.size()))) {
            said.add(field(m) + ": " + m.getError());
        }
        String more = messages.size() > MAX_MESSAGES ? " (and " + (messages.size() - MAX_MESSAGES) + " more)" : "";
        throw new CaptureException(400, "VSYNC-JOB-INVALID", field(messages.get(0)),
                "a payload valid against " + resource(type), "The " + type + " payload does not match its schema ("
                        + resource(type) + "): " + String.join("; ", said) + more + ". Nothing was queued.");
    }

    /**
     * The member a message is about, as {@code payload.a.b}: the instance location, and for a missing
     * required member or an unknown one that member's name.
     */
    static String field(ValidationMessage m) {
        JsonNodePath at = m.getInstanceLocation();
        StringBuilder path = new StringBuilder("payload");
        for (int i = 0; i < at.getNameCount(); i++) {
            Object element = at.getElement(i);
            if (element instanceof Integer index) {
                path.append('[').append(index).append(']');
            } else {
                path.append('.').append(element);
            }
        }
        String property = m.getProperty();
        if (property != null && ("required".equals(m.getType()) || "additionalProperties".equals(m.getType())
                || "unevaluatedProperties".equals(m.getType()))) {
            path.append('.').append(property);
        }
        return path.toString();
    }
}
