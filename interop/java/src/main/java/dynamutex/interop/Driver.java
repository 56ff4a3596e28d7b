package dynamutex.interop;

import com.amazonaws.services.dynamodbv2.AcquireLockOptions;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBLockClient;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBLockClientOptions;
import com.amazonaws.services.dynamodbv2.GetLockOptions;
import com.amazonaws.services.dynamodbv2.LockItem;
import com.amazonaws.services.dynamodbv2.ReleaseLockOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Drives the real AmazonDynamoDBLockClient 1.4.0 over stdin/stdout, one JSON
 * object per line each way (protocol: interop/README.md). Only the client's
 * public API is used, so what lands in the table is what the release writes.
 */
public final class Driver {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DynamoDbClient dynamo;
    // The lease and heartbeat are settings of the client, not of a lock, so
    // one client is kept per (table, lease, heartbeat).
    private final Map<String, AmazonDynamoDBLockClient> clients = new HashMap<>();
    private final Map<String, LockItem> held = new HashMap<>();
    private final String owner;

    private Driver(DynamoDbClient dynamo, String owner) {
        this.dynamo = dynamo;
        this.owner = owner;
    }

    public static void main(String[] args) throws Exception {
        String endpoint = System.getenv("AWS_ENDPOINT_URL_DYNAMODB");
        if (endpoint == null || endpoint.isEmpty()) {
            System.err.println("javadriver: AWS_ENDPOINT_URL_DYNAMODB is not set");
            System.exit(2);
        }
        DynamoDbClient dynamo = DynamoDbClient.builder()
                .endpointOverride(URI.create(endpoint))
                .httpClient(ApacheHttpClient.create())
                .build();
        String owner = System.getenv().getOrDefault("INTEROP_OWNER", "java-" + ProcessHandle.current().pid());
        Driver d = new Driver(dynamo, owner);
        d.reply(d.ok("ready").put("client", "java").put("version", "1.4.0").put("owner", owner));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode cmd = JSON.readTree(line);
            if ("exit".equals(cmd.path("op").asText())) {
                break;
            }
            d.reply(d.handle(cmd));
        }
        // Halt without close(): close() releases every held lock, and a
        // driver told to exit must leave the table as it is.
        Runtime.getRuntime().halt(0);
    }

    private ObjectNode handle(JsonNode cmd) {
        String op = cmd.path("op").asText();
        try {
            switch (op) {
                case "acquire": return acquire(cmd, false);
                case "try": return acquire(cmd, true);
                case "release": return release(cmd);
                case "get": return get(cmd);
                case "list": return list(cmd);
                case "sleep":
                    Thread.sleep(cmd.path("ms").asLong());
                    return ok(op);
                default: return fail(op, cmd, "unknown op", "UnknownOp");
            }
        } catch (Exception e) {
            return fail(op, cmd, String.valueOf(e.getMessage()), e.getClass().getSimpleName());
        }
    }

    private AmazonDynamoDBLockClient client(JsonNode cmd) {
        String table = cmd.path("table").asText("lockTable");
        long lease = cmd.path("lease_ms").asLong(20000);
        long heartbeat = cmd.path("heartbeat_ms").asLong(5000);
        return clients.computeIfAbsent(table + "/" + lease + "/" + heartbeat, k ->
                new AmazonDynamoDBLockClient(AmazonDynamoDBLockClientOptions.builder(dynamo, table)
                        .withOwnerName(owner)
                        .withLeaseDuration(lease)
                        .withHeartbeatPeriod(heartbeat)
                        .withTimeUnit(TimeUnit.MILLISECONDS)
                        .withCreateHeartbeatBackgroundThread(true)
                        .build()));
    }

    // acquire waits the client's own way: up to wait_ms plus one lease of the
    // lock it first finds, polling every refresh_ms. try asks the client not to
    // wait at all (shouldSkipBlockingWait).
    private ObjectNode acquire(JsonNode cmd, boolean skipWait) throws InterruptedException {
        String key = cmd.path("key").asText();
        AcquireLockOptions.AcquireLockOptionsBuilder b = AcquireLockOptions.builder(key)
                .withTimeUnit(TimeUnit.MILLISECONDS)
                .withAdditionalTimeToWaitForLock(cmd.path("wait_ms").asLong(1000))
                .withRefreshPeriod(cmd.path("refresh_ms").asLong(1000))
                .withShouldSkipBlockingWait(skipWait);
        LockItem lock = client(cmd).acquireLock(b.build());
        held.put(key, lock);
        return lockReply(ok(cmd.path("op").asText()), lock);
    }

    private ObjectNode release(JsonNode cmd) {
        String key = cmd.path("key").asText();
        LockItem lock = held.remove(key);
        if (lock == null) {
            return fail("release", cmd, "this driver holds no lock on " + key, "NotHeld");
        }
        boolean keep = cmd.path("keep").asBoolean(false);
        boolean released = client(cmd).releaseLock(ReleaseLockOptions.builder(lock)
                .withDeleteLock(!keep).withBestEffort(false).build());
        if (!released) {
            return fail("release", cmd, "the client reports the lock was no longer ours", "NotReleased");
        }
        return ok("release").put("key", key);
    }

    // get reads the item through the client, released ones included, so the
    // reply shows how the client itself parses what is in the table.
    private ObjectNode get(JsonNode cmd) {
        String key = cmd.path("key").asText();
        Optional<LockItem> lock = client(cmd).getLockFromDynamoDB(GetLockOptions.builder(key).build());
        ObjectNode r = ok("get").put("key", key).put("found", lock.isPresent());
        lock.ifPresent(l -> lockReply(r, l));
        return r;
    }

    private ObjectNode list(JsonNode cmd) {
        ArrayNode locks = JSON.createArrayNode();
        Iterator<LockItem> it = client(cmd).getAllLocksFromDynamoDB(false).iterator();
        while (it.hasNext()) {
            locks.add(lockReply(JSON.createObjectNode(), it.next()));
        }
        ObjectNode r = ok("list");
        r.set("locks", locks);
        return r;
    }

    private static ObjectNode lockReply(ObjectNode r, LockItem l) {
        return r.put("key", l.getPartitionKey())
                .put("owner", l.getOwnerName())
                .put("rvn", l.getRecordVersionNumber())
                .put("lease_ms", l.getLeaseDuration())
                .put("expired", l.isExpired());
    }

    private ObjectNode ok(String op) {
        return JSON.createObjectNode().put("ok", true).put("op", op);
    }

    private ObjectNode fail(String op, JsonNode cmd, String error, String cls) {
        ObjectNode r = JSON.createObjectNode().put("ok", false).put("op", op)
                .put("error", error).put("class", cls);
        if (cmd.has("key")) {
            r.put("key", cmd.path("key").asText());
        }
        return r;
    }

    private void reply(ObjectNode r) throws Exception {
        Instant now = Instant.now();
        r.put("t_ns", now.getEpochSecond() * 1_000_000_000L + now.getNano());
        System.out.println(JSON.writeValueAsString(r));
        System.out.flush();
    }
}
