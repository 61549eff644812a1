package io.vectorsync.api;

import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import java.util.Set;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document at {@code /v3/api-docs} (springdoc): the ingest API ({@code /api/v1}) and the
 * admin API ({@code /admin/v1}). The document itself is open, like {@code /actuator/health}: it holds no
 * data, and tools need it before they have a credential. Every admin operation is described with the two
 * schemes {@link io.vectorsync.security.SecurityConfig} accepts (bearer token or HTTP basic) and its 401.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfig {

    static final String BEARER = "adminBearer";
    static final String BASIC = "adminBasic";

    @Bean
    OpenAPI vectorsyncOpenApi() {
        return new OpenAPI()
                .info(new Info().title("vectorsync").version("v1").description("""
                        Ingest API (/api/v1): write chunks; each write and its outbox event commit in one
                        transaction. Admin API (/admin/v1): status, queue, dead letters, pause/resume, retry,
                        sync now, backfill; needs vectorsync.admin.token as a bearer token, or the basic
                        credentials. Errors are RFC 9457 problem details (application/problem+json) with a stable
                        VSYNC- code in the code member and a type URI per code."""))
                .components(new Components()
                        .addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                                .description("Authorization: Bearer <vectorsync.admin.token>"))
                        .addSecuritySchemes(BASIC, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("basic")
                                .description("vectorsync.admin.username / vectorsync.admin.password")));
    }

    /**
     * Every API and admin operation: its errors as problem details (the {@code default} response); admin
     * paths also either scheme, and the 401 the filter answers before any controller runs.
     */
    @Bean
    OpenApiCustomizer adminSecurity() {
        return api -> {
            if (api.getPaths() == null) {
                return;
            }
            // The error body every VSYNC- answer carries, referenced by the admin operations' 401.
            if (api.getComponents().getSchemas() == null || !api.getComponents().getSchemas().containsKey("Problem")) {
                ModelConverters.getInstance().read(ProblemSchema.class).forEach(api.getComponents()::addSchemas);
            }
            api.getPaths().forEach((path, item) -> {
                if (path.startsWith("/api/") || path.startsWith("/admin/")) {
                    item.readOperations().forEach(op -> {
                        if (op.getResponses() != null && !op.getResponses().containsKey("default")) {
                            op.getResponses().addApiResponse("default", new ApiResponse()
                                    .description("An error: problem details with a stable VSYNC- code")
                                    .content(problemContent()));
                        }
                    });
                }
                if (!path.startsWith("/admin/")) {
                    return;
                }
                item.readOperations().forEach(op -> {
                    op.addSecurityItem(new SecurityRequirement().addList(BEARER));
                    op.addSecurityItem(new SecurityRequirement().addList(BASIC));
                    if (op.getResponses() != null && !op.getResponses().containsKey("401")) {
                        op.getResponses().addApiResponse("401", new ApiResponse()
                                .description("VSYNC-AUTH-REQUIRED, VSYNC-AUTH-INVALID or VSYNC-AUTH-NOT-CONFIGURED")
                                .content(problemContent()));
                    }
                });
            });
        };
    }

    /**
     * {@code ChunkView.syncStatus} in both shapes: on the server an object with one state per backend, on
     * a device (the {@code local} profile, ADR 023) one string for the chunk's way to the remote.
     */
    @Bean
    OpenApiCustomizer chunkSyncStatusShapes() {
        return api -> {
            Schema<?> view = api.getComponents() == null || api.getComponents().getSchemas() == null ? null
                    : api.getComponents().getSchemas().get("ChunkView");
            if (view == null || view.getProperties() == null) {
                return;
            }
            // type for OpenAPI 3.0 documents, types for 3.1 (springdoc's default)
            Schema<Object> perBackend = new Schema<>().type("object").types(Set.of("object"))
                    .description("On the server: the state of this version per configured backend")
                    .additionalProperties(new Schema<String>().type("string").types(Set.of("string"))
                            ._enum(List.of("PENDING", "SYNCED", "FAILED")));
            Schema<String> onDevice = new Schema<String>().type("string").types(Set.of("string"))
                    .description("On a device: the chunk's sync with the remote (LOCAL: LOCAL_ONLY, never uploaded)")
                    ._enum(List.of("PENDING", "SYNCED", "CONFLICT", "FAILED", "LOCAL"));
            view.getProperties().put("syncStatus", new Schema<>().description("Per backend on the server, one"
                    + " string on a device").oneOf(List.of(perBackend, onDevice)));
        };
    }

    /** An error answer's content: {@link ProblemSchema} as {@code application/problem+json}. */
    private static Content problemContent() {
        return new Content().addMediaType(ApiErrors.PROBLEM_JSON, new MediaType()
                .schema(new Schema<>().$ref("#/components/schemas/Problem")));
    }
}
