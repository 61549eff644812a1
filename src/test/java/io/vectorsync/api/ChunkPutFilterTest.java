package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * Which requests take the hot path: only those whose answer from Spring MVC is certain to be the same (the
 * id needs no decoding, the media types are plain); every other request must go on to Spring MVC.
 */
class ChunkPutFilterTest {

    private static MockHttpServletRequest put(String uri) {
        MockHttpServletRequest r = new MockHttpServletRequest("PUT", uri);
        r.setServletPath(uri);
        r.setContentType("application/json");
        return r;
    }

    @Test
    void plainPutsTakeTheHotPathWithTheIdAsWritten() {
        assertThat(ChunkPutFilter.plainPutChunkId(put("/api/v1/chunks/doc-1.p3"))).isEqualTo("doc-1.p3");
        assertThat(ChunkPutFilter.plainPutChunkId(put("/api/v1/chunks/a:b@c~d_e!$&'()*+,="))).isEqualTo(
                "a:b@c~d_e!$&'()*+,=");
        MockHttpServletRequest charset = put("/api/v1/chunks/x");
        charset.setContentType("application/json;charset=UTF-8");
        charset.addHeader("Accept", "text/plain, application/json, application/*+json, */*");
        charset.addHeader("If-Match", "\"3\"");
        assertThat(ChunkPutFilter.plainPutChunkId(charset)).isEqualTo("x");
    }

    @Test
    void everythingElseGoesToSpringMvc() {
        for (String uri : new String[] {"/api/v1/chunks/", "/api/v1/chunks/a%2Fb", "/api/v1/chunks/a;v=1",
                "/api/v1/chunks/a/b", "/api/v1/chunks/.", "/api/v1/chunks/..", "/api/v1/chunks/a b",
                "/api/v1/chunks/\u00e9", "/api/v1/chunks:batch", "/api/v1/chunk/x", "/API/v1/chunks/x"}) {
            assertThat(ChunkPutFilter.plainPutChunkId(put(uri))).as(uri).isNull();
        }
        MockHttpServletRequest post = put("/api/v1/chunks/x");
        post.setMethod("POST");
        MockHttpServletRequest lower = put("/api/v1/chunks/x");
        lower.setMethod("put");
        MockHttpServletRequest normalised = put("/api/v1/chunks/x");
        normalised.setServletPath("/api/v1/chunks/y");
        MockHttpServletRequest noType = put("/api/v1/chunks/x");
        noType.setContentType(null);
        MockHttpServletRequest text = put("/api/v1/chunks/x");
        text.setContentType("text/plain");
        MockHttpServletRequest latin = put("/api/v1/chunks/x");
        latin.setContentType("application/json;charset=ISO-8859-1");
        MockHttpServletRequest twoIfMatch = put("/api/v1/chunks/x");
        twoIfMatch.addHeader("If-Match", "\"1\"");
        twoIfMatch.addHeader("If-Match", "\"2\"");
        MockHttpServletRequest twoAccept = put("/api/v1/chunks/x");
        twoAccept.addHeader("Accept", "application/json");
        twoAccept.addHeader("Accept", "*/json");
        MockHttpServletRequest context = put("/api/v1/chunks/x");
        context.setContextPath("/app");
        for (MockHttpServletRequest r : new MockHttpServletRequest[] {post, lower, normalised, noType, text, latin,
                twoIfMatch, twoAccept, context}) {
            assertThat(ChunkPutFilter.plainPutChunkId(r)).isNull();
        }
    }

    @Test
    void onlyAcceptHeadersSpringReadsAsAllowingJsonWithoutParametersCount() {
        for (String ok : new String[] {"*/*", "*", "application/json", "APPLICATION/JSON", "application/*",
                "application/*+json", "text/html, application/json", " text/plain ,*/* ", "application/json,"}) {
            assertThat(ChunkPutFilter.acceptsJson(ok)).as(ok).isTrue();
        }
        for (String no : new String[] {"", " ", ",", "text/html", "text/*", "application/xml", "application/json;q=0",
                "application/json; q=0.5", "text/html;level=1, application/json", "*/json, application/json",
                "application/json/x", "application/, application/json", "/json, application/json",
                "application/json, text/\"x\""}) {
            assertThat(ChunkPutFilter.acceptsJson(no)).as(no).isFalse();
        }
    }
}
