package io.vectorsync.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.core.StandardHost;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Tomcat settings the API needs: errors Tomcat answers itself are problem details with a {@code VSYNC-} code
 * ({@link JsonErrorReportValve}), and {@code %2F} / {@code %5C} in a path are passed through to the
 * application, so a chunk id containing '/' or '\' (legal, and writable by batch) is addressable as
 * {@code /api/v1/chunks/a%2Fb} instead of being refused by Tomcat with an HTML 400.
 */
@Configuration
public class TomcatConfig {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> vectorsyncTomcat() {
        return factory -> {
            factory.addConnectorCustomizers(c -> {
                c.setEncodedSolidusHandling("passthrough");
                c.setEncodedReverseSolidusHandling("passthrough");
                // TRACE reaches the application only to be refused by traceRefusal() as problem details; Tomcat's own
                // refusal has no body.
                c.setAllowTrace(true);
            });
            factory.addContextCustomizers(ctx -> {
                if (ctx.getParent() instanceof StandardHost host) {
                    host.setErrorReportValveClass(JsonErrorReportValve.class.getName());
                }
            });
        };
    }

    /** Refuses TRACE (never echoed) with a 405 as problem details, first in the filter chain. */
    @Bean
    FilterRegistrationBean<OncePerRequestFilter> traceRefusal() {
        OncePerRequestFilter f = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
                    FilterChain chain) throws ServletException, IOException {
                if (!"TRACE".equalsIgnoreCase(request.getMethod())) {
                    chain.doFilter(request, response);
                    return;
                }
                response.setHeader("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
                ApiErrors.write(request, response, 405, new ApiError("VSYNC-METHOD-NOT-ALLOWED",
                        "TRACE is not allowed.", null, null));
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> reg = new FilterRegistrationBean<>(f);
        reg.addUrlPatterns("/*");
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE);
        reg.setName("vectorsyncTraceRefusal");
        return reg;
    }

    /** The ingest hot path ({@link ChunkPutFilter}), last in the chain so every other filter runs first. */
    @Bean
    FilterRegistrationBean<ChunkPutFilter> chunkPutFilter(ChunkController controller,
            @Qualifier("handlerExceptionResolver") HandlerExceptionResolver exceptions) {
        FilterRegistrationBean<ChunkPutFilter> reg = new FilterRegistrationBean<>(
                new ChunkPutFilter(controller, exceptions));
        reg.addUrlPatterns(ChunkPutFilter.PREFIX + "*");
        reg.setOrder(Ordered.LOWEST_PRECEDENCE);
        reg.setName("vectorsyncChunkPut");
        return reg;
    }
}
