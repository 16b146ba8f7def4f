// Waits until a Kafka broker answers a real client: an AdminClient describeCluster() that returns a
// node and a controller, retried until a deadline. Run by up.sh with Java's single-file source launcher
// against the broker's own jars (kafka-clients is among them), so it needs nothing but Java:
//
//   java -cp "$KAFKA_LIBS/*" Ready.java 127.0.0.1:9092 90 [pid]
//
// Exit 0 when ready; 1 on timeout, or at once if the optional broker pid has died (no point waiting).
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;

public class Ready {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        Path proc = args.length > 2 ? Path.of("/proc", args[2]) : null;
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            if (proc != null && !Files.exists(proc)) {
                System.err.println("kafka: broker process " + args[2] + " exited during start-up");
                System.exit(1);
            }
            try (Admin admin = Admin.create(props)) {
                DescribeClusterResult cluster = admin.describeCluster();
                int nodes = cluster.nodes().get(3, TimeUnit.SECONDS).size();
                var controller = cluster.controller().get(3, TimeUnit.SECONDS);
                String id = cluster.clusterId().get(3, TimeUnit.SECONDS);
                if (nodes > 0 && controller != null && !controller.isEmpty()) {
                    System.out.println("cluster " + id + ", " + nodes + " broker(s)");
                    return;
                }
                last = "cluster has no brokers or controller yet";
            } catch (Exception e) {
                last = String.valueOf(e.getCause() != null ? e.getCause() : e);
            }
            Thread.sleep(500);
        }
        System.err.println("kafka: " + bootstrap + " did not answer in time; last: " + last);
        System.exit(1);
    }
}
