package io.vectorsync.support;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium driven by Selenium through chromedriver: Debian's {@code chromium} and
 * {@code chromium-driver} ({@code /usr/bin/chromium}, {@code /usr/bin/chromedriver}; other paths with
 * {@code -Dvectorsync.chromium=} and {@code -Dvectorsync.chromedriver=}), installed by {@code .ci/run}. The
 * paths are given, so Selenium Manager (which would download a browser) is never asked. Each instance has a
 * fresh user-data directory, removed on {@link #close()}; the flags keep Chromium off the network (this
 * machine's network is closed: without them it tries Google's hosts at every start).
 */
public final class HeadlessChromium implements AutoCloseable {

    private final Path profile;
    private final ChromeDriverService service;
    private final ChromeDriver driver;

    public HeadlessChromium() throws IOException {
        File chromium = new File(System.getProperty("vectorsync.chromium", "/usr/bin/chromium"));
        File chromedriver = new File(System.getProperty("vectorsync.chromedriver", "/usr/bin/chromedriver"));
        if (!chromium.canExecute() || !chromedriver.canExecute()) {
            throw new IllegalStateException("The browser tests need Debian's chromium and chromium-driver (" + chromium
                    + ", " + chromedriver + "): bash scripts/install-chromium.sh (as root; .ci/run does)");
        }
        profile = Files.createTempDirectory("vectorsync-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--password-store=basic",
                "--window-size=1440,900", "--user-data-dir=" + profile);
        service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver).usingAnyFreePort()
                .withLogOutput(java.io.OutputStream.nullOutputStream()).build();
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            service.stop();
            delete(profile);
            throw e;
        }
    }

    public ChromeDriver driver() {
        return driver;
    }

    /**
     * A PNG of the window as {@code target/screenshots/<name>.png} and, with {@code -Dvectorsync.updateDocs=true},
     * as {@code docs/images/<name>.png} too (the docs' screenshots).
     */
    public Path screenshot(String name) {
        byte[] png = driver.getScreenshotAs(OutputType.BYTES);
        try {
            Path out = Paths.get("target", "screenshots", name + ".png");
            Files.createDirectories(out.getParent());
            Files.write(out, png);
            if (Boolean.getBoolean("vectorsync.updateDocs")) {
                Path doc = Paths.get("docs", "images", name + ".png");
                Files.createDirectories(doc.getParent());
                Files.write(doc, png);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            delete(profile);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
