package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.auth.UserDirectory;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.core.config.LimitsConfig;
import io.pgrelay.core.config.ProxyConfig;
import io.pgrelay.core.metrics.ProxyMetrics;
import io.pgrelay.protocol.message.frontend.StartupMessage;

import java.util.List;

/**
 * What authentication needs besides the exchange itself ({@link ClientAuthHandler}): the users
 * and the method for those not listed, who may use the admin console, where authenticated
 * clients are registered, and what serves them next.
 */
public final class ClientLogin {
    /** The virtual database that selects the admin console instead of a session. */
    public static final String CONSOLE_DATABASE = "pgrelay";

    private final UserDirectory users;
    private final AuthMethod defaultMethod;
    private final List<String> consoleUsers;
    private final ClientRegistry clients;
    private final ProxyMetrics metrics;
    private final LoggedInHandlers next;
    private final ConnectionLimits limits;

    /** Without per-user or per-database connection limits. */
    public ClientLogin(UserDirectory users, AuthMethod defaultMethod, List<String> consoleUsers,
                       ClientRegistry clients, ProxyMetrics metrics, LoggedInHandlers next) {
        this(users, defaultMethod, consoleUsers, clients, metrics, next,
                new ConnectionLimits(LimitsConfig.unlimited()));
    }

    public ClientLogin(UserDirectory users, AuthMethod defaultMethod, List<String> consoleUsers,
                       ClientRegistry clients, ProxyMetrics metrics, LoggedInHandlers next, ConnectionLimits limits) {
        this.limits = limits;
        this.users = users;
        this.defaultMethod = defaultMethod;
        this.consoleUsers = List.copyOf(consoleUsers);
        this.clients = clients;
        this.metrics = metrics;
        this.next = next;
    }

    /** Users allowed on the admin console: {@code admin.console-users}, by default only the monitor user. */
    public static List<String> consoleUsers(ProxyConfig config) {
        List<String> configured = config.admin().consoleUsers();
        return configured != null ? configured : List.of(config.monitor().user());
    }

    /** The user's credentials, null for a user the directory does not know. */
    ClientCredentials credentials(String user) {
        return users.find(user);
    }

    /** How a user is asked for a password: its own method, or the default for unknown users. */
    AuthMethod method(ClientCredentials credentials) {
        return credentials != null ? credentials.method() : defaultMethod;
    }

    static boolean wantsConsole(StartupMessage startup) {
        return CONSOLE_DATABASE.equals(startup.database());
    }

    boolean mayUseConsole(String user) {
        return consoleUsers.contains(user);
    }

    void refused() {
        metrics.clientRefused();
    }

    /**
     * Counts the authenticated client against its user's and database's connection limits
     * (throws 53300 past them), registers it (for {@code SHOW CLIENTS}) and returns the handler
     * that serves it.
     */
    ChannelHandler loggedIn(Channel channel, StartupMessage startup, ClientCredentials credentials, boolean console) {
        limits.admit(channel, startup.user(), startup.database());
        ClientRegistry.Entry entry = clients.register(channel, startup.user(), startup.database(),
                startup.parameters().get("application_name"), console);
        return console ? next.console(startup, entry) : next.session(startup, credentials);
    }
}
