package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.HeadlessChromium;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * The status page {@code /console} (ADR 029) in a real headless Chromium ({@link HeadlessChromium}) and over
 * plain HTTP: the login form with the admin credential (user and password, or the token), each backend's
 * status, NOOP jobs enqueued through {@code POST /api/v1/jobs} going from pending to completed on the page,
 * its retry button running a failed job again and its cancel button cancelling a pending one, and what
 * guards it: no page or JSON without a login, no POST without the session's CSRF token,
 * the console's session opening nothing of the admin API, and its cookie {@code HttpOnly} and
 * {@code SameSite=Strict}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.admin.username=" + ConsoleIT.USER, "vectorsync.admin.password=" + ConsoleIT.PASSWORD,
        "vectorsync.jobs.poll-interval=200ms", "vectorsync.jobs.types.[NOOP].max-attempts=2",
        "vectorsync.jobs.types.[NOOP].concurrency=3", "vectorsync.jobs.types.[NOOP].base-delay=50ms",
        "vectorsync.jobs.types.[NOOP].max-delay=100ms"})
class ConsoleIT extends AbstractIT {

    static final String USER = "operator";
    static final String PASSWORD = "console-test-password";
    static final Duration WAIT = Duration.ofSeconds(30);

    private static HeadlessChromium chromium;

    @LocalServerPort
    int port;

    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void startBrowser() throws Exception {
        chromium = new HeadlessChromium();
    }

    @AfterAll
    static void stopBrowser() {
        if (chromium != null) {
            chromium.close();
        }
    }

    @BeforeEach
    void loggedOut() {
        WebDriver browser = chromium.driver();
        browser.get(url("/console/login"));
        browser.manage().deleteAllCookies();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    private WebDriver browser() {
        return chromium.driver();
    }

    private void logIn(String user, String password) {
        WebDriver b = browser();
        b.get(url("/console"));
        await().atMost(WAIT).until(() -> b.getCurrentUrl().endsWith("/console/login"));
        await().atMost(WAIT).until(() -> b.findElement(By.id("login-submit")).isEnabled());
        b.findElement(By.id("username")).sendKeys(user);
        b.findElement(By.id("password")).sendKeys(password);
        b.findElement(By.id("login-submit")).click();
    }

    private WebElement backendRow(String backend) {
        return browser().findElement(By.cssSelector("#backends tr[data-backend='" + backend + "']"));
    }

    @Test
    void theLoginFormOpensThePageWhichShowsEachBackendsLagBacklogParkedAndDeadLetters() {
        browser().get(url("/console/"));
        await().atMost(WAIT).until(() -> browser().getCurrentUrl().endsWith("/console/login"));
        await().atMost(WAIT).until(() -> browser().findElement(By.id("login-submit")).isEnabled());
        chromium.screenshot("console-login");
        logIn(USER, "wrong");
        await().atMost(WAIT).until(() -> browser().getCurrentUrl().endsWith("/console/login?error"));
        assertThat(browser().findElement(By.id("login-message")).getText()).contains("wrong");
        logIn(USER, PASSWORD);
        await().atMost(WAIT).ignoreExceptions().until(() -> backendRow("replica").isDisplayed());
        WebElement row = backendRow("replica");
        await().atMost(WAIT).ignoreExceptions().until(() -> backendRow("replica")
                .findElement(By.cssSelector("td.backlog")).getText().matches("\\d+"));
        assertThat(row.findElement(By.cssSelector("td.state")).getText()).isEqualTo("running");
        assertThat(row.findElement(By.cssSelector("td.lag")).getText()).matches("[0-9.]+ s|–");
        assertThat(row.findElement(By.cssSelector("td.parked")).getText()).isEqualTo("0");
        assertThat(row.findElement(By.cssSelector("td.dead-letters")).getText()).isEqualTo("0");
        assertThat(browser().findElement(By.id("user")).getText()).isEqualTo("logged in as " + USER);

        // It refreshes by itself: the time of the last read moves on without a reload.
        String first = browser().findElement(By.tagName("body")).getDomAttribute("data-refreshed-at");
        await().atMost(WAIT).until(() -> !first.equals(
                browser().findElement(By.tagName("body")).getDomAttribute("data-refreshed-at")));

        // Paused in the database, the backend shows paused at the next refresh.
        jdbc.update("UPDATE relay_cursor SET paused = true WHERE backend = 'replica'");
        try {
            await().atMost(WAIT).ignoreExceptions().until(() -> backendRow("replica")
                    .findElement(By.cssSelector("td.state")).getText().equals("paused"));
        } finally {
            jdbc.update("UPDATE relay_cursor SET paused = false WHERE backend = 'replica'");
        }

        browser().findElement(By.id("logout")).click();
        await().atMost(WAIT).until(() -> browser().getCurrentUrl().endsWith("/console/login?logout"));
        browser().get(url("/console/"));
        await().atMost(WAIT).until(() -> browser().getCurrentUrl().endsWith("/console/login"));
    }

    @Test
    void theAdminTokenLogsInWithTheUserLeftEmpty() {
        logIn("", ADMIN_TOKEN);
        await().atMost(WAIT).ignoreExceptions().until(() -> browser().findElement(By.id("user")).getText()
                .equals("logged in as admin-token"));
    }

    /** Enqueues a NOOP job through the job API; its correlation tells the test's jobs apart. */
    private String noop(String name, Map<String, Object> payload, Instant runAt) throws Exception {
        Map<String, Object> envelope = new java.util.LinkedHashMap<>();
        envelope.put("type", "NOOP");
        envelope.put("correlation", Map.of("test", name));
        envelope.put("payload", payload);
        if (runAt != null) {
            envelope.put("runAt", runAt.toString());
        }
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> r = http.postForEntity("/api/v1/jobs", new HttpEntity<>(write(envelope), h),
                String.class);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(202);
        return json.readTree(r.getBody()).path("id").asText();
    }

    private String statusInDatabase(String id) {
        return jdbc.queryForObject("SELECT status FROM jobs WHERE id = ?", String.class, id);
    }

    /** The job's row on the page, or null while the page does not show it. */
    private WebElement jobRow(String id) {
        List<WebElement> rows = browser().findElements(By.cssSelector("#jobs tr[data-job-id='" + id + "']"));
        return rows.isEmpty() ? null : rows.get(0);
    }

    private String shownStatus(String id) {
        WebElement row = jobRow(id);
        return row == null ? null : row.getDomAttribute("data-status");
    }

    private void awaitShown(String id, String status) {
        await().atMost(WAIT).ignoreExceptions().until(() -> status.equals(shownStatus(id)));
    }

    private String badgeColour(String id) {
        return jobRow(id).findElement(By.cssSelector(".badge")).getCssValue("background-color");
    }

    @Test
    void aJobGoesFromPendingToCompletedAndTheRetryAndCancelButtonsWork() throws Exception {
        // Fails both of its attempts (max-attempts 2): FAILED, kept for retry.
        String failing = noop("failing", Map.of("failTimes", 2), null);
        await().atMost(WAIT).until(() -> "FAILED".equals(statusInDatabase(failing)));
        // Pending for a few seconds (runAt), then processing for a few (progress), then completed.
        String slow = noop("slow", Map.of("sleepMs", 6000), Instant.now().plusSeconds(8));
        // Pending for an hour: to be cancelled.
        String later = noop("later", Map.of(), Instant.now().plus(Duration.ofHours(1)));

        logIn(USER, PASSWORD);
        awaitShown(slow, "PENDING");
        awaitShown(failing, "FAILED");
        awaitShown(later, "PENDING");
        WebElement failed = jobRow(failing);
        assertThat(failed.findElement(By.cssSelector("td.last-error")).getText()).contains("fails on purpose");
        assertThat(failed.findElement(By.cssSelector("td.attempts")).getText()).isEqualTo("2 / 2");
        assertThat(failed.findElements(By.cssSelector("button.retry"))).hasSize(1);
        assertThat(jobRow(later).findElement(By.cssSelector("td.started")).getText()).startsWith("in ");
        assertThat(jobRow(later).findElements(By.cssSelector("button.cancel"))).hasSize(1);
        chromium.screenshot("console-jobs-pending");

        awaitShown(slow, "PROCESSING");
        await().atMost(WAIT).ignoreExceptions().until(() -> jobRow(slow).findElement(By.cssSelector(".progress-text"))
                .getText().matches("[1-9]\\d* / 6000"));
        chromium.screenshot("console-jobs");
        awaitShown(slow, "COMPLETED");
        assertThat(jobRow(slow).findElement(By.cssSelector(".progress-text")).getText()).isEqualTo("6000 / 6000");
        // Each status has its own colour.
        assertThat(List.of(badgeColour(slow), badgeColour(failing), badgeColour(later))).doesNotHaveDuplicates();

        // Retry: the failed job runs again (its third attempt passes failTimes 2) and completes.
        await().atMost(WAIT).ignoreExceptions().until(() -> {
            jobRow(failing).findElement(By.cssSelector("button.retry")).click();
            return true;
        });
        awaitShown(failing, "COMPLETED");
        assertThat(statusInDatabase(failing)).isEqualTo("COMPLETED");
        assertThat(browser().findElement(By.id("message")).getText()).contains("retry");

        // Cancel: the pending job is cancelled at once.
        await().atMost(WAIT).ignoreExceptions().until(() -> {
            jobRow(later).findElement(By.cssSelector("button.cancel")).click();
            return true;
        });
        awaitShown(later, "CANCELLED");
        assertThat(statusInDatabase(later)).isEqualTo("CANCELLED");
        assertThat(jobRow(later).findElements(By.cssSelector("button.retry"))).hasSize(1);

        // The status buttons filter the list.
        browser().findElement(By.cssSelector("#job-counts button.status-cancelled")).click();
        await().atMost(WAIT).ignoreExceptions().until(() -> jobRow(slow) == null && jobRow(later) != null);
        browser().findElement(By.cssSelector("#job-counts button.all")).click();
        await().atMost(WAIT).ignoreExceptions().until(() -> jobRow(slow) != null);
        chromium.screenshot("console-jobs-done");
    }

    // ---- over plain HTTP: what guards the page ----

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder get(String path, String cookie) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).GET();
        return cookie == null ? b : b.header("Cookie", cookie);
    }

    private static String sessionCookie(HttpResponse<?> r) {
        return r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("JSESSIONID=")).findFirst()
                .orElseThrow(() -> new AssertionError("no session cookie in " + r.headers().map()));
    }

    /** The login form's CSRF cookie (set before the login, instead of a session). */
    private static String csrfCookie(HttpResponse<?> r) {
        return r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("VSYNC-CONSOLE-CSRF="))
                .findFirst().orElseThrow(() -> new AssertionError("no CSRF cookie in " + r.headers().map()));
    }

    private static String cookiePair(String setCookie) {
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** A session: the CSRF token read from the page's own endpoint, then the login form posted with it. */
    private record Session(String cookie, String csrf) {}

    private Session logInOverHttp() throws Exception {
        HttpResponse<String> token = send(get("/console/api/csrf", null));
        assertThat(token.statusCode()).isEqualTo(200);
        String cookie = cookiePair(csrfCookie(token));
        JsonNode csrf = json.readTree(token.body());
        assertThat(csrf.path("headerName").asText()).isEqualTo("X-CSRF-TOKEN");
        String form = "username=" + USER + "&password=" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8)
                + "&_csrf=" + URLEncoder.encode(csrf.path("token").asText(), StandardCharsets.UTF_8);
        HttpResponse<String> login = send(HttpRequest.newBuilder(URI.create(url("/console/login")))
                .header("Cookie", cookie).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
        assertThat(login.statusCode()).as(login.body()).isEqualTo(302);
        assertThat(login.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/console/"));
        String loggedIn = sessionCookie(login);
        assertThat(loggedIn).contains("HttpOnly").containsIgnoringCase("SameSite=Strict");
        cookie = cookiePair(loggedIn);
        // The token changes at login as well: read it again, as the page does.
        HttpResponse<String> again = send(get("/console/api/csrf", cookie));
        return new Session(cookie, json.readTree(again.body()).path("token").asText());
    }

    @Test
    void withoutALoginThePageRedirectsAndItsJsonAnswers401() throws Exception {
        HttpResponse<String> page = send(get("/console/", null));
        assertThat(page.statusCode()).isEqualTo(302);
        assertThat(page.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l)
                .endsWith("/console/login"));
        assertThat(send(get("/console", null)).headers().firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).endsWith("/console/login"));
        for (String path : List.of("/console/api/overview", "/console/console.js", "/console/index.html")) {
            HttpResponse<String> r = send(get(path, null));
            assertThat(r.statusCode()).as(path).isIn(302, 401);
            assertThat(r.body()).as(path).doesNotContain("refresh");
        }
        HttpResponse<String> api = send(get("/console/api/overview", null));
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(json.readTree(api.body()).path("code").asText()).isEqualTo("VSYNC-AUTH-REQUIRED");
        // The login page and what it needs are open.
        HttpResponse<String> login = send(get("/console/login", null));
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.body()).contains("id=\"login-form\"");
        assertThat(login.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp)
                .contains("script-src 'self'").contains("frame-ancestors 'none'"));
        assertThat(send(get("/console/login.js", null)).statusCode()).isEqualTo(200);
    }

    @Test
    void aPostWithoutTheCsrfTokenIsRefusedChangesNothingAndTheLoginFormNeedsItToo() throws Exception {
        String failing = noop("csrf", Map.of("failTimes", 2), null);
        await().atMost(WAIT).until(() -> "FAILED".equals(statusInDatabase(failing)));
        Session s = logInOverHttp();
        HttpResponse<String> overview = send(get("/console/api/overview", s.cookie()));
        assertThat(overview.statusCode()).as(overview.body()).isEqualTo(200);
        assertThat(json.readTree(overview.body()).path("user").asText()).isEqualTo(USER);

        for (Map.Entry<String, String> header : Map.of("Origin", url(""), "X-CSRF-TOKEN", "forged").entrySet()) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url("/console/api/jobs/" + failing
                    + "/retry"))).header("Cookie", s.cookie()).header(header.getKey(), header.getValue())
                    .POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(r.statusCode()).as(header.getKey()).isEqualTo(403);
            assertThat(json.readTree(r.body()).path("code").asText()).isEqualTo("VSYNC-AUTH-CSRF");
        }
        assertThat(statusInDatabase(failing)).isEqualTo("FAILED");
        // With the session's token the same request retries it.
        HttpResponse<String> retried = send(HttpRequest.newBuilder(URI.create(url("/console/api/jobs/" + failing
                + "/retry"))).header("Cookie", s.cookie()).header("X-CSRF-TOKEN", s.csrf())
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(json.readTree(retried.body()).path("status").asText()).isEqualTo("PENDING");
        // A job that is not there: the queue's own 404, as problem details.
        HttpResponse<String> unknown = send(HttpRequest.newBuilder(URI.create(url("/console/api/jobs/nope/cancel")))
                .header("Cookie", s.cookie()).header("X-CSRF-TOKEN", s.csrf())
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json.readTree(unknown.body()).path("code").asText()).isEqualTo("VSYNC-JOB-NOT-FOUND");
        HttpResponse<String> logout = send(HttpRequest.newBuilder(URI.create(url("/console/logout")))
                .header("Cookie", s.cookie()).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(logout.statusCode()).isEqualTo(403);
        assertThat(send(get("/console/api/overview", s.cookie())).statusCode())
                .as("a logout without the token logs nobody out").isEqualTo(200);

        HttpResponse<String> login = send(HttpRequest.newBuilder(URI.create(url("/console/login")))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=" + USER + "&password=" + PASSWORD)));
        assertThat(login.statusCode()).isEqualTo(403);
        assertThat(json.readTree(login.body()).path("code").asText()).isEqualTo("VSYNC-AUTH-CSRF");
    }

    /**
     * Before the login nobody has a session: the login form's CSRF token is kept in a cookie of its own
     * ({@code HttpOnly}, {@code SameSite=Strict}, path {@code /console}), so anonymous callers of
     * {@code GET /console/api/csrf} and the login page create no HTTP session. The login still needs that
     * token with its cookie, clears it, and the session's token is another one.
     */
    @Test
    void anonymousCallersGetNoSessionAndTheLoginStillNeedsTheFormsToken() throws Exception {
        HttpResponse<String> csrf = send(get("/console/api/csrf", null));
        assertThat(csrf.statusCode()).isEqualTo(200);
        assertThat(csrf.headers().allValues("Set-Cookie")).as("an anonymous CSRF read")
                .noneMatch(c -> c.startsWith("JSESSIONID="));
        String formCookie = csrfCookie(csrf);
        assertThat(formCookie).contains("HttpOnly").containsIgnoringCase("SameSite=Strict").contains("Path=/console");
        for (String path : List.of("/console/login", "/console/", "/console/api/overview", "/console/login.js")) {
            assertThat(send(get(path, null)).headers().allValues("Set-Cookie")).as(path)
                    .noneMatch(c -> c.startsWith("JSESSIONID="));
        }
        String token = URLEncoder.encode(json.readTree(csrf.body()).path("token").asText(), StandardCharsets.UTF_8);
        String form = "username=" + USER + "&password=" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8)
                + "&_csrf=" + token;
        // The form's token without its cookie (another site cannot read or set it) is refused.
        HttpResponse<String> cookieless = send(HttpRequest.newBuilder(URI.create(url("/console/login")))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
        assertThat(cookieless.statusCode()).isEqualTo(403);
        assertThat(json.readTree(cookieless.body()).path("code").asText()).isEqualTo("VSYNC-AUTH-CSRF");
        assertThat(cookieless.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("JSESSIONID="));

        // A wrong password: back to the form with no session either, and the same form token still logs in.
        HttpResponse<String> wrong = send(HttpRequest.newBuilder(URI.create(url("/console/login")))
                .header("Cookie", cookiePair(formCookie)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form.replace(
                        "password=" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8), "password=wrong"))));
        assertThat(wrong.statusCode()).isEqualTo(302);
        assertThat(wrong.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith(
                "/console/login?error"));
        assertThat(wrong.headers().allValues("Set-Cookie")).as("a failed login")
                .noneMatch(c -> c.startsWith("JSESSIONID="));

        HttpResponse<String> login = send(HttpRequest.newBuilder(URI.create(url("/console/login")))
                .header("Cookie", cookiePair(formCookie)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
        assertThat(login.statusCode()).as(login.body()).isEqualTo(302);
        String session = cookiePair(sessionCookie(login));
        assertThat(login.headers().allValues("Set-Cookie")).as("the form's token is cleared at login")
                .anyMatch(c -> c.startsWith("VSYNC-CONSOLE-CSRF=;") && c.contains("Max-Age=0"));
        // The session's requests take the session's token, not the form's.
        String failing = noop("csrf-form", Map.of("failTimes", 2), null);
        await().atMost(WAIT).until(() -> "FAILED".equals(statusInDatabase(failing)));
        HttpResponse<String> withFormToken = send(HttpRequest.newBuilder(URI.create(url("/console/api/jobs/" + failing
                + "/retry"))).header("Cookie", session + "; " + cookiePair(formCookie))
                .header("X-CSRF-TOKEN", json.readTree(csrf.body()).path("token").asText())
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(withFormToken.statusCode()).isEqualTo(403);
        assertThat(statusInDatabase(failing)).isEqualTo("FAILED");
        HttpResponse<String> sessionToken = send(get("/console/api/csrf", session));
        assertThat(sessionToken.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("VSYNC-CONSOLE-CSRF="));
        HttpResponse<String> retried = send(HttpRequest.newBuilder(URI.create(url("/console/api/jobs/" + failing
                + "/retry"))).header("Cookie", session)
                .header("X-CSRF-TOKEN", json.readTree(sessionToken.body()).path("token").asText())
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    }

    @Test
    void theConsolesSessionOpensNothingOfTheAdminApi() throws Exception {
        Session s = logInOverHttp();
        for (String path : List.of("/admin/v1/status", "/actuator/jolokia", "/admin/v1/dead-letters")) {
            HttpResponse<String> r = send(get(path, s.cookie()));
            assertThat(r.statusCode()).as(path).isEqualTo(401);
        }
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(url("/admin/v1/sync-now")))
                .header("Cookie", s.cookie()).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(post.statusCode()).isEqualTo(401);
        // Nor does the admin API's bearer token open the console's JSON: the page is for browsers.
        HttpResponse<String> bearer = send(get("/console/api/overview", null)
                .header("Authorization", "Bearer " + ADMIN_TOKEN));
        assertThat(bearer.statusCode()).isEqualTo(401);
    }
}
