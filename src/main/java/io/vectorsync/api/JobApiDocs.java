package io.vectorsync.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.media.Discriminator;
import io.swagger.v3.oas.models.media.Schema;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.jobs.JobPayloadSchemas;
import io.vectorsync.jobs.JobSubmissionService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The job types' payload schemas in the OpenAPI document: each type's {@code jobs/<type>.schema.json}
 * becomes the component {@code <Type>Payload} as shipped (OpenAPI 3.1 schemas are JSON Schema 2020-12;
 * {@code $schema} and {@code $id} are left out), each type gets an envelope {@code <Type>JobSubmit} whose
 * {@code type} is that type and whose {@code payload} is that schema, and {@value #ENVELOPE}, the body of
 * {@code POST /api/v1/jobs}, is one of them, discriminated by {@code type}.
 */
@Configuration(proxyBeanMethods = false)
@ServerOnly
public class JobApiDocs {

    /** The component of {@code POST /api/v1/jobs}'s body. */
    static final String ENVELOPE = "JobSubmit";

    /** The component name of a type's payload schema: {@code NOOP} → {@code NoopPayload}. */
    static String payloadComponent(String type) {
        return pascal(type) + "Payload";
    }

    static String envelopeComponent(String type) {
        return pascal(type) + ENVELOPE;
    }

    private static String pascal(String type) {
        StringBuilder out = new StringBuilder();
        for (String part : type.toLowerCase(Locale.ROOT).split("_")) {
            if (!part.isEmpty()) {
                out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return out.toString();
    }

    @Bean
    OpenApiCustomizer jobPayloadSchemas(JobSubmissionService submission) {
        return api -> {
            if (api.getComponents() == null) {
                api.setComponents(new Components());
            }
            JobPayloadSchemas schemas = submission.schemas();
            List<Schema> variants = new ArrayList<>();
            Map<String, String> mapping = new LinkedHashMap<>();
            for (String type : schemas.types()) {
                ObjectNode doc = ((ObjectNode) schemas.document(type).orElseThrow()).deepCopy();
                doc.remove("$schema");
                doc.remove("$id");
                api.getComponents().addSchemas(payloadComponent(type), component(doc));
                String ref = "#/components/schemas/" + envelopeComponent(type);
                api.getComponents().addSchemas(envelopeComponent(type), envelope(type));
                variants.add(new Schema<>().$ref(ref));
                mapping.put(type, ref);
            }
            api.getComponents().addSchemas(ENVELOPE, new Schema<>()
                    .description("A job to enqueue: one variant per type, chosen by `type`")
                    .oneOf(variants).discriminator(new Discriminator().propertyName("type").mapping(mapping)));
        };
    }

    /** A schema document as a component, read the way swagger-core reads OpenAPI 3.1 schemas. */
    private static Schema<?> component(JsonNode doc) {
        try {
            return Json31.mapper().treeToValue(doc, Schema.class);
        } catch (Exception e) {
            throw new IllegalStateException("a job payload schema could not be read as an OpenAPI 3.1 schema", e);
        }
    }

    private static Schema<Object> envelope(String type) {
        Map<String, Schema> properties = new LinkedHashMap<>();
        properties.put("type", typed("string").description("The job type")._enum(List.<Object>of(type)));
        properties.put("correlation", typed("object").description("Correlation keys ([A-Za-z0-9_.:-], at most 16)"
                + " and string values: the same type and correlation returns the existing job")
                .additionalProperties(typed("string").maxLength(512)));
        properties.put("payload", new Schema<>().$ref("#/components/schemas/" + payloadComponent(type)));
        properties.put("runAt", typed("string").format("date-time").description("Not before this time"));
        properties.put("priority", typed("integer").format("int32").description("Higher runs first (default: the"
                + " type's vectorsync.jobs.types.<TYPE>.priority)"));
        return typed("object").description("A " + type + " job").properties(properties).required(List.of("type"))
                .additionalProperties(Boolean.FALSE);
    }

    /** A schema of one JSON type, for OpenAPI 3.0 ({@code type}) and 3.1 ({@code types}) documents. */
    private static Schema<Object> typed(String type) {
        return new Schema<>().type(type).types(Set.of(type));
    }
}
