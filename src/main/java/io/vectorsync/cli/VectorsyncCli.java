package io.vectorsync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The vectorsync command line: talks to a running service's admin API (never starts Spring or Camel).
 * Run it from the service's jar with {@code java -Dloader.main=io.vectorsync.cli.VectorsyncCli -cp
 * vectorsync.jar org.springframework.boot.loader.launch.PropertiesLauncher status}, or with the
 * {@code vectorsync} script at the repository root.
 *
 * <p>Exit codes: 0 ok, 1 problems found, 2 usage, 3 cannot reach the service, 4 not authorised.
 */
@Command(name = "vectorsync", mixinStandardHelpOptions = true, versionProvider = VectorsyncCli.Version.class,
        description = "Operates a running vectorsync service through its admin API.",
        subcommands = {
                Commands.Status.class, Commands.Queue.class, Commands.Now.class, Commands.Retry.class,
                Commands.Replay.class, Commands.Pause.class, Commands.Resume.class, Commands.Backfill.class,
                Commands.Verify.class, SyncCommands.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0 ok, 1 problems found, 2 usage, 3 cannot reach the service, 4 not authorised",
                "%nEnvironment:%n  VECTORSYNC_URL          the service (default http://localhost:8080)",
                "  VECTORSYNC_ADMIN_TOKEN  the admin token (unless --token-file)"})
public final class VectorsyncCli implements Callable<Integer> {

    public static final int EXIT_OK = 0;
    public static final int EXIT_PROBLEMS = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNREACHABLE = 3;
    public static final int EXIT_UNAUTHORISED = 4;

    static final String DEFAULT_URL = "http://localhost:8080";

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "The service's base URL (default: $VECTORSYNC_URL, else " + DEFAULT_URL + ").")
    String url;

    @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Read the admin token from this file instead of $VECTORSYNC_ADMIN_TOKEN.")
    Path tokenFile;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON for scripts instead of tables.")
    boolean json;

    @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS", defaultValue = "30",
            description = "Timeout of each HTTP request (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;
    final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private AdminClient client;

    VectorsyncCli(Map<String, String> env) {
        this.env = env;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /** Runs the CLI with these arguments, streams and environment; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        CommandLine cmd = new CommandLine(new VectorsyncCli(env));
        cmd.setOut(o);
        cmd.setErr(e);
        cmd.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof CliException c) {
                line.getErr().println("vectorsync: " + c.getMessage());
                return c.exitCode();
            }
            line.getErr().println("vectorsync: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
            return EXIT_PROBLEMS;
        });
        try {
            return cmd.execute(args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    /** The admin client, built once from --url / VECTORSYNC_URL and the token. */
    AdminClient client() {
        if (client == null) {
            String u = url != null ? url : env.getOrDefault("VECTORSYNC_URL", DEFAULT_URL);
            URI base;
            try {
                base = URI.create(u.endsWith("/") ? u : u + "/");
                if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https"))
                        || base.getHost() == null) {
                    throw new IllegalArgumentException("not an http(s) URL");
                }
            } catch (IllegalArgumentException ex) {
                throw new CliException(EXIT_USAGE, "--url must be an http(s) URL such as " + DEFAULT_URL + ": " + u);
            }
            if (timeoutSeconds < 1) {
                throw new CliException(EXIT_USAGE, "--timeout must be at least 1 second");
            }
            client = new AdminClient(base, token(), mapper, Duration.ofSeconds(timeoutSeconds));
        }
        return client;
    }

    private String token() {
        if (tokenFile != null) {
            try {
                String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
                if (t.isEmpty()) {
                    throw new CliException(EXIT_USAGE, "The token file is empty: " + tokenFile);
                }
                return t;
            } catch (IOException ex) {
                throw new CliException(EXIT_USAGE, "Cannot read the token file " + tokenFile + ": " + ex.getMessage());
            }
        }
        String t = env.get("VECTORSYNC_ADMIN_TOKEN");
        return t == null || t.isBlank() ? null : t.trim();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    void printJson(JsonNode node) {
        try {
            out().println(mapper.writeValueAsString(node));
            out().flush();
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    ProgressBar progress(String label) {
        return new ProgressBar(err(), ProgressBar.terminal(), label);
    }

    /** The version of the jar the CLI runs from. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = VectorsyncCli.class.getPackage().getImplementationVersion();
            return new String[] {"vectorsync " + (v == null ? "(development build)" : v)};
        }
    }
}
