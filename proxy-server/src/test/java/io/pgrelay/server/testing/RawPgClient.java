package io.pgrelay.server.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgrelay.protocol.message.Message;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.frontend.StartupMessage;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bare-socket PostgreSQL client for tests that must send what no driver would: garbage,
 * truncated packets, unknown message types, abrupt disconnects.
 */
public final class RawPgClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** One backend message as received. */
    public record Received(char type, byte[] body) {
        public ErrorResponse error() {
            if (type != 'E') {
                throw new AssertionError("expected an ErrorResponse, got '" + type + "'");
            }
            return ErrorResponse.decode(Unpooled.wrappedBuffer(body));
        }

        /** The first column of a DataRow as text; null for NULL. */
        public String firstText() {
            if (type != 'D') {
                throw new AssertionError("expected a DataRow, got '" + type + "'");
            }
            return io.pgrelay.protocol.message.backend.DataRow.decode(Unpooled.wrappedBuffer(body)).textValues().get(0);
        }
    }

    public RawPgClient(String host, int port) throws IOException {
        this(host, port, 0);
    }

    public RawPgClient(String host, int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress(host, port), 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    public RawPgClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    public RawPgClient send(Message message) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        message.encode(buf);
        return send(ByteBufUtil.getBytes(buf));
    }

    /** Sends a StartupMessage 3.0 for this user and database. */
    public RawPgClient startup(String user, String database) throws IOException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("database", database);
        return send(new StartupMessage(StartupMessage.PROTOCOL_3_0, params));
    }

    /** Logs in where no password is asked (trust); returns the last message (ReadyForQuery). */
    public Received login(String user, String database) throws IOException {
        startup(user, database);
        return readUntil('Z');
    }

    /** Answers a cleartext password request (method password) and reads until ReadyForQuery. */
    public Received passwordLogin(String password) throws IOException {
        Received auth = readUntil('R');
        if (auth.body().length < 4 || auth.body()[3] != 3) {
            throw new AssertionError("expected a cleartext password request");
        }
        send(new io.pgrelay.protocol.message.frontend.PasswordMessage(password));
        return readUntil('Z');
    }

    public Received read() throws IOException {
        byte type = in.readByte();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Received((char) type, body);
    }

    /** Reads messages until one of this type, failing on an ErrorResponse unless that is the type asked for. */
    public Received readUntil(char type) throws IOException {
        while (true) {
            Received message = read();
            if (message.type() == type) {
                return message;
            }
            if (message.type() == 'E') {
                throw new AssertionError("unexpected error: " + message.error());
            }
        }
    }

    /** Reads until an ErrorResponse and returns it. */
    public ErrorResponse readError() throws IOException {
        while (true) {
            Received message = read();
            if (message.type() == 'E') {
                return message.error();
            }
        }
    }

    /** Whether the server closed the connection (EOF) within the timeout, discarding anything before it. */
    public boolean closedByServer(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        try {
            byte[] buffer = new byte[8192];
            while (true) {
                if (in.read(buffer) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            // Connection reset also means the server dropped us.
            return true;
        }
    }

    public DataInputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
