package io.pgrelay.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pgrelay} command line. */
@Command(name = "pgrelay", mixinStandardHelpOptions = true, versionProvider = PgRelayCommand.Version.class,
        description = "SQL-aware PostgreSQL proxy: pooling, read/write splitting, failover.",
        subcommands = {RunCommand.class, ClassifyCommand.class})
public final class PgRelayCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Leak tracking samples stack traces on the relay path; tests turn it on (paranoid).
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        int exit = new CommandLine(new PgRelayCommand()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = PgRelayCommand.class.getPackage().getImplementationVersion();
            return new String[] {"pgrelay " + (version != null ? version : "development build")};
        }
    }
}
